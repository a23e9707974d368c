/**
 * Where log batch bodies are parsed: on threads of their own (the default where there are two or more cores), or
 * in process. Parsing and checking a 500-log batch (UTF-8, JSON.parse, the fast check, 500 fingerprints) took
 * about a third of the event loop's time per batch; on a thread it runs beside the previous batch's transaction,
 * and the event loop only pays for receiving the checked logs (a structured clone, about a quarter of the work it
 * replaces; `test/bench/ingest.ts` measures both). The threads are shared by every server in the process and do
 * not keep it alive.
 */
import { Worker } from 'node:worker_threads';
import type { EventWindow } from '../../model/contract/index.ts';
import { type LogBatchParse, parseLogBatch } from './log-batch-parse.ts';
import type { ParseRequest } from './log-parse-thread.ts';

export interface LogParser {
  parse(bytes: Uint8Array, receivedAtMs: number, window: EventWindow): Promise<LogBatchParse>;
  /** Starts the threads now rather than on the first batch (a thread takes ~0.4 s to load its code). */
  warm(): void;
}

export const inProcessLogParser: LogParser = {
  parse: async (bytes, receivedAtMs, window) => parseLogBatch(bytes, receivedAtMs, window),
  warm: () => {},
};

type Reply = { id: number; result: LogBatchParse } | { id: number; error: string } | { ready: true };

class ParseThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (r: LogBatchParse) => void; reject: (e: Error) => void }>();
  #next = 0;
  /** Answered at least once: a thread that fails before that cannot start here at all. */
  started = false;
  dead = false;

  constructor(onDeath: (thread: ParseThread, error: Error) => void) {
    this.#worker = new Worker(new URL('../threads/tsx-thread.mjs', import.meta.url), {
      workerData: { entry: new URL('./log-parse-thread.ts', import.meta.url).href },
    });
    this.#worker.unref();
    this.#worker.on('message', (m: Reply) => {
      if ('ready' in m) {
        this.started = true;
        return;
      }
      const p = this.#pending.get(m.id);
      this.#pending.delete(m.id);
      if ('error' in m) p?.reject(new Error(`log batch parse failed: ${m.error}`));
      else p?.resolve(m.result);
    });
    const die = (error: Error) => {
      if (this.dead) return;
      this.dead = true;
      for (const p of this.#pending.values()) p.reject(error);
      this.#pending.clear();
      onDeath(this, error);
    };
    this.#worker.on('error', die);
    this.#worker.on('exit', (code) => die(new Error(`log parse thread exited (${code})`)));
  }

  get load(): number {
    return this.#pending.size;
  }

  parse(bytes: Uint8Array, receivedAtMs: number, window: EventWindow): Promise<LogBatchParse> {
    const id = this.#next++;
    // Move the body to the thread instead of copying it, when it owns its whole buffer (a pooled Buffer does not).
    const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    const transfer = own && bytes.buffer instanceof ArrayBuffer ? [bytes.buffer] : [];
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, bytes, receivedAtMs, window } satisfies ParseRequest, transfer);
    });
  }
}

/**
 * `threads` parse threads, least loaded first. A thread that dies fails the batches it held (the device sends
 * them again; nothing accepted is lost) and is replaced on the next batch; if a thread cannot start at all, the
 * pool parses in process from then on and says so once.
 */
function threadPool(threads: number, log: (line: string) => void): LogParser {
  let pool: ParseThread[] = [];
  let inProcess = false;
  const onDeath = (thread: ParseThread, error: Error) => {
    pool = pool.filter((t) => t !== thread);
    if (!thread.started && !inProcess) {
      inProcess = true;
      log(`log parse thread could not start (${error.message}); parsing log batches in process`);
    }
  };
  const fill = () => {
    while (pool.length < threads) pool.push(new ParseThread(onDeath));
  };
  return {
    parse(bytes, receivedAtMs, window) {
      if (inProcess) return inProcessLogParser.parse(bytes, receivedAtMs, window);
      fill();
      let best = pool[0] as ParseThread;
      for (const t of pool) if (t.load < best.load) best = t;
      return best.parse(bytes, receivedAtMs, window);
    },
    warm: () => {
      if (!inProcess) fill();
    },
  };
}

const shared = new Map<number, LogParser>();

/** The process's parser for `threads` threads (0: in process). */
export function logParser(threads: number, log: (line: string) => void = console.error): LogParser {
  if (threads <= 0) return inProcessLogParser;
  let p = shared.get(threads);
  if (!p) {
    p = threadPool(threads, log);
    shared.set(threads, p);
  }
  return p;
}
