/**
 * Helper threads for the threaded SIMD kernel in Node (tests, benchmarks):
 * a worker_threads Worker running runKernelThread, as a Web Worker does in
 * the browser (web/src/lib/inference/kernel-thread.worker.ts).
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { KernelThreadInit } from '../dense-kernel-abi.ts';
import { runKernelThread } from '../dense-kernel-thread.ts';
import type { SpawnKernelThread } from '../dense-simd-threads.ts';

/** Starts a helper in a worker_threads Worker (TypeScript loaded through tsx). */
export const spawnNodeKernelThread: SpawnKernelThread = (init) =>
  new Promise((resolve, reject) => {
    // Node 20 cannot start a worker from a .ts file, so a one-line loader imports this file through tsx.
    const loader = `import('tsx/esm/api').then((api) => api.tsImport(${JSON.stringify(import.meta.url)}, ${JSON.stringify(import.meta.url)}))`;
    const worker = new Worker(loader, { eval: true, workerData: init });
    // A helper sleeping in Atomics.wait must not keep a test run or a script from exiting.
    worker.unref();
    worker.once('message', () => resolve({ terminate: () => void worker.terminate() }));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`kernel thread exited with code ${code} before it was ready`)));
  });

if (!isMainThread && parentPort && (workerData as KernelThreadInit | undefined)?.module) {
  const port = parentPort;
  runKernelThread(workerData as KernelThreadInit, () => port.postMessage('ready'));
}
