/**
 * Our WebAssembly SIMD kernel on several threads ('simd-threads'): WASM
 * threads, for pages that are cross-origin isolated (SharedArrayBuffer).
 * The kernel's shared-memory variant is instantiated once per thread on one
 * shared memory that holds the packed weights once; a call writes its rows
 * there, wakes the helper threads, and every thread (the calling one too)
 * claims chunks of rows until none are left, so a thread on a busy core takes
 * fewer instead of holding the others up; then the caller waits (Atomics) for
 * the helpers to check in. Small calls run on the calling thread alone, where
 * waking helpers would cost more than it saves, so one row costs what it
 * costs on 'simd'.
 *
 * The calling thread must be allowed to block (a worker, or Node), and the
 * helpers are started by the host (`spawn`): a Web Worker in the browser,
 * a worker_threads Worker in tests.
 */
import {
  CONTROL,
  CONTROL_BYTES,
  claimChunks,
  type KernelExports,
  type KernelThreadInit,
  kernelImports,
  MAX_KERNEL_THREADS,
  SHARED_MEMORY_MAX_PAGES,
} from './dense-kernel-abi.ts';
import { type DenseModel, type DenseWeights, kernelDenseModel } from './dense-model.ts';
import { align, growTo, layOutKernel, PAGE } from './dense-simd.ts';

/** A started helper thread, waiting for work. */
export interface KernelThreadHandle {
  terminate(): void;
}

/** Starts a helper thread that runs runKernelThread(init) (dense-kernel-thread.ts); resolves once it is ready. */
export type SpawnKernelThread = (init: KernelThreadInit) => Promise<KernelThreadHandle>;

export interface ThreadedKernelOptions {
  /** Threads in all, the calling one included (2 … MAX_KERNEL_THREADS). */
  readonly threads: number;
  readonly spawn: SpawnKernelThread;
  /** How long to wait for a helper to start or to finish its share before giving up (default 30 s). */
  readonly timeoutMs?: number;
}

/** Fewer rows than this and a call runs on the calling thread alone, as 'simd' would. */
export const MIN_SPLIT_ROWS = 128;
/** Rows a thread claims at a time: about a millisecond of work, so threads finish within a chunk of each other. */
const CHUNK_ROWS = 256;
/** Rows per pass through the shared memory, so that it stays well under its maximum. */
const PASS_ROWS = 32_768;

const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });

/**
 * Places the weights in shared memory and starts `threads − 1` helpers. Rejects (with a reason) where this
 * environment has no shared WebAssembly memory (a page that is not cross-origin isolated) or a helper fails to
 * start; the helpers already started are stopped then.
 *
 * @example
 * const m = await createThreadedSimdDenseModel(weights, sharedKernel, { threads: 2, spawn });
 * const probs = m.predictSync(catalogue, 14_245); // rows split across 2 threads
 * m.dispose(); // stops the helpers
 */
export async function createThreadedSimdDenseModel(
  w: DenseWeights,
  kernel: WebAssembly.Module,
  options: ThreadedKernelOptions,
): Promise<DenseModel> {
  const { threads, spawn, timeoutMs = 30_000 } = options;
  if (!Number.isInteger(threads) || threads < 2 || threads > MAX_KERNEL_THREADS) {
    throw new Error(`threads must be 2 to ${MAX_KERNEL_THREADS}, got ${threads}`);
  }
  if (typeof SharedArrayBuffer === 'undefined') {
    throw new Error('no shared memory here: the page is not cross-origin isolated (COOP/COEP headers)');
  }
  const memory = new WebAssembly.Memory({ initial: 1, maximum: SHARED_MEMORY_MAX_PAGES, shared: true });
  const k = (await WebAssembly.instantiate(kernel, kernelImports(memory))).exports as unknown as KernelExports;
  const tile = k.TILE.value as number;
  const layout = layOutKernel(w, tile, CONTROL_BYTES);
  const scratchOf = (t: number) => layout.end + t * layout.scratchBytes;
  const io = layout.end + threads * layout.scratchBytes;
  const inRow = w.inputSize * 4;
  const outRow = w.outputSize * 4;
  const passRows = Math.min(PASS_ROWS, Math.floor((SHARED_MEMORY_MAX_PAGES * PAGE - io - 128) / (inRow + outRow)));
  let capacityRows = 0;
  const ensureRows = (rows: number) => {
    if (rows <= capacityRows) return;
    growTo(memory, io + align(rows * inRow) + rows * outRow);
    capacityRows = rows;
  };
  ensureRows(1);
  layout.write(memory.buffer);
  // Shared memory is never detached by growing, so this view stays valid.
  const ctl = new Int32Array(memory.buffer, 0, CONTROL_BYTES / 4);

  const helpers: KernelThreadHandle[] = [];
  const stopHelpers = () => {
    Atomics.store(ctl, CONTROL.STOP, 1);
    Atomics.add(ctl, CONTROL.SEQ, 1);
    Atomics.notify(ctl, CONTROL.SEQ);
    for (const h of helpers) h.terminate();
    helpers.length = 0;
  };
  const started = await Promise.allSettled(
    Array.from({ length: threads - 1 }, (_, i) =>
      withTimeout(
        spawn({
          module: kernel,
          memory,
          index: i + 1,
          table: layout.table,
          layers: layout.layers,
          inWidth: w.inputSize,
          outWidth: w.outputSize,
          widest: layout.widest,
          scratch: scratchOf(i + 1),
        }),
        timeoutMs,
        `kernel thread ${i + 1}`,
      ),
    ),
  );
  for (const s of started) if (s.status === 'fulfilled') helpers.push(s.value);
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    stopHelpers();
    throw new Error(`a kernel thread did not start: ${String(failed.reason)}`);
  }

  let broken: string | null = null;
  /** One pass of at most passRows rows: shared out in chunks when it is big enough to pay for waking helpers. */
  const pass = (x: Float32Array, rows: number, out: Float32Array, outOffset: number) => {
    ensureRows(rows);
    const xAt = io;
    const outAt = io + align(rows * inRow);
    new Float32Array(memory.buffer, xAt, x.length).set(x);
    const own = { table: layout.table, layers: layout.layers, widest: layout.widest, scratch: scratchOf(0) };
    if (rows < MIN_SPLIT_ROWS) {
      k.forward(own.table, own.layers, xAt, w.inputSize, rows, outAt, w.outputSize, own.scratch, own.widest);
    } else {
      // Chunks of whole tiles, small enough that every thread gets some.
      const chunk = Math.max(tile, Math.min(CHUNK_ROWS, Math.ceil(rows / threads / tile) * tile));
      Atomics.store(ctl, CONTROL.X, xAt);
      Atomics.store(ctl, CONTROL.OUT, outAt);
      Atomics.store(ctl, CONTROL.ROWS, rows);
      Atomics.store(ctl, CONTROL.CHUNK, chunk);
      Atomics.store(ctl, CONTROL.NEXT, 0);
      Atomics.store(ctl, CONTROL.DONE, 0);
      Atomics.add(ctl, CONTROL.SEQ, 1);
      Atomics.notify(ctl, CONTROL.SEQ);
      let failure: unknown = null;
      try {
        claimChunks(k, ctl, { ...own, inWidth: w.inputSize, outWidth: w.outputSize });
      } catch (err) {
        // Still wait for the helpers: the next job must not start while they work on this one.
        failure = err;
      }
      for (let done = Atomics.load(ctl, CONTROL.DONE); done < threads - 1; done = Atomics.load(ctl, CONTROL.DONE)) {
        if (Atomics.wait(ctl, CONTROL.DONE, done, timeoutMs) === 'timed-out') {
          broken = `a kernel thread did not finish within ${timeoutMs} ms`;
          stopHelpers();
          throw new Error(broken);
        }
      }
      const failures = Atomics.exchange(ctl, CONTROL.FAILED, 0);
      if (failure) throw failure;
      if (failures > 0) throw new Error(`the dense kernel failed on ${failures} helper thread(s)`);
    }
    out.set(new Float32Array(memory.buffer, outAt, rows * w.outputSize), outOffset);
  };

  const model = kernelDenseModel(w, (x, rows) => {
    if (broken) throw new Error(broken);
    const out = new Float32Array(rows * w.outputSize);
    for (let start = 0; start < rows; start += passRows) {
      const n = Math.min(passRows, rows - start);
      pass(x.subarray(start * w.inputSize, (start + n) * w.inputSize), n, out, start * w.outputSize);
    }
    return out;
  });
  return {
    ...model,
    dispose() {
      model.dispose();
      stopHelpers();
    },
  };
}
