/**
 * WAL checkpoints off the request thread. SQLite's automatic checkpoint runs inside whichever commit pushes the
 * WAL past its threshold, and better-sqlite3 runs synchronously, so that commit — a device's log batch — stalls
 * the event loop for the whole copy and sync of the WAL into the database (tens of ms, every few batches). The
 * store turns the automatic checkpoint off and this worker thread, on its own connection, runs a PASSIVE
 * checkpoint (it never blocks the writer or readers) every `intervalMs`, and truncates the WAL once it holds
 * more than `maxFrames` pages (32 MiB at the default 4 KiB page).
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require(workerData.driver);
const db = new SQLite(workerData.path);
db.pragma('busy_timeout = 1000');
db.pragma('synchronous = ' + workerData.synchronous);
const tick = () => {
  try {
    const r = db.pragma('wal_checkpoint(PASSIVE)')[0];
    // A busy writer may never find the WAL fully copied at the start of a write, so the log would only grow:
    // past the bound, truncate it (holds writers back only for what the passive pass left, then the reset).
    if (r && r.log > workerData.maxFrames) db.pragma('wal_checkpoint(TRUNCATE)');
  } catch (e) {
    // Busy or closing: the next tick retries.
  }
};
const timer = setInterval(tick, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m === 'stop') { clearInterval(timer); tick(); db.close(); parentPort.postMessage('stopped'); }
});
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

export function startWalCheckpointer(
  path: string,
  opts: { intervalMs?: number; maxFrames?: number; synchronous: 'FULL' | 'NORMAL' },
): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: {
      path,
      driver,
      intervalMs: opts.intervalMs ?? 200,
      maxFrames: opts.maxFrames ?? 8192,
      synchronous: opts.synchronous,
    },
  });
  worker.unref();
  worker.on('error', (e) => console.error(`sqlite checkpointer: ${e.message}`));
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timeout);
          resolve();
        };
        const timeout = setTimeout(() => void worker.terminate().then(done, done), 2000);
        worker.once('message', () => void worker.terminate().then(done, done));
        worker.once('exit', done);
        worker.postMessage('stop');
      }),
  };
}
