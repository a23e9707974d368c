// Starts a TypeScript module (workerData.entry, a file URL) on a worker thread. A worker thread does not inherit
// the parent's tsx loader (`node --import tsx`), so it registers its own before importing the module.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
