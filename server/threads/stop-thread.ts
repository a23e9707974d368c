import type { Worker } from 'node:worker_threads';

/**
 * Stops a worker that holds a connection: asks it to close (`'stop'`; it answers `{ closed: true }`), then ends it.
 * A wedged thread must not hold up shutdown, so it is ended after 5 s whatever it says.
 */
export function stopThread(worker: Worker): Promise<void> {
  return new Promise<void>((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      void worker.terminate().finally(resolve);
    };
    worker.on('message', (m: { closed?: boolean }) => {
      if (m?.closed) finish();
    });
    worker.once('exit', finish);
    worker.postMessage('stop');
    setTimeout(finish, 5000).unref();
  });
}
