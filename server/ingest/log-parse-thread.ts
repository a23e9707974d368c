/** The log batch parse thread (started by `log-parse-pool.ts`): one request in, one answer out, in order. */
import { parentPort } from 'node:worker_threads';
import type { EventWindow } from '../../model/contract/index.ts';
import { parseLogBatch } from './log-batch-parse.ts';

export interface ParseRequest {
  id: number;
  bytes: Uint8Array;
  receivedAtMs: number;
  window: EventWindow;
}

const port = parentPort;
if (!port) throw new Error('log-parse-thread.ts runs on a worker thread only');
port.on('message', (m: ParseRequest) => {
  try {
    port.postMessage({ id: m.id, result: parseLogBatch(m.bytes, m.receivedAtMs, m.window) });
  } catch (e) {
    port.postMessage({ id: m.id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
});
port.postMessage({ ready: true });
