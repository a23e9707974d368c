/**
 * How hosts talk to the WebAssembly dense kernel (assembly/dense-kernel.ts):
 * its exports and imports, and for the threaded variant the control block
 * that the coordinating thread and its helper threads share. Kept free of
 * tfjs and of everything else, because a helper thread's bundle is this file
 * and dense-kernel-thread.ts only.
 */

/** What the kernel module exports (both variants: own memory and shared memory). */
export interface KernelExports {
  readonly memory: WebAssembly.Memory;
  readonly TILE: WebAssembly.Global;
  forward(
    table: number,
    layers: number,
    x: number,
    inWidth: number,
    rows: number,
    out: number,
    outWidth: number,
    scratch: number,
    widest: number,
  ): void;
}

/** The imports a kernel instance needs; `memory` only for the shared-memory variant. */
export function kernelImports(memory?: WebAssembly.Memory): WebAssembly.Imports {
  return {
    env: {
      ...(memory ? { memory } : {}),
      abort() {
        throw new Error('the dense kernel aborted');
      },
    },
  };
}

/**
 * Most pages of the threaded variant's shared memory: a shared memory must declare its maximum, which the
 * browser reserves as address space up front, so it is kept modest (128 MiB) and big calls run in passes.
 */
export const SHARED_MEMORY_MAX_PAGES = 2048;

/**
 * The control block: the first CONTROL_BYTES of the shared memory, as Int32 slots used with Atomics. For a
 * job the coordinator writes where the rows are (X, ROWS, OUT) and the chunk size, zeroes NEXT and DONE, bumps
 * SEQ and wakes the helpers. Every thread, the coordinator too, then claims chunks of rows by adding to NEXT
 * until none are left, so a thread that runs slower (a busy core) simply takes fewer; each helper then counts
 * itself in DONE, and in FAILED if the kernel threw.
 */
export const CONTROL_BYTES = 64;
export const CONTROL = { SEQ: 0, DONE: 1, STOP: 2, FAILED: 3, NEXT: 4, X: 5, ROWS: 6, OUT: 7, CHUNK: 8 } as const;
/** Most threads (the coordinator counts as one): far more than this small model can use. */
export const MAX_KERNEL_THREADS = 16;

/**
 * Runs the rows of the current job in chunks claimed from NEXT until none are left (each thread, the
 * coordinator too). The chunk size is a multiple of the kernel's tile, so only the very last chunk has a short
 * tile.
 */
export function claimChunks(
  k: KernelExports,
  ctl: Int32Array,
  shape: { table: number; layers: number; inWidth: number; outWidth: number; widest: number; scratch: number },
): void {
  const rows = Atomics.load(ctl, CONTROL.ROWS);
  const chunk = Atomics.load(ctl, CONTROL.CHUNK);
  const x = Atomics.load(ctl, CONTROL.X);
  const out = Atomics.load(ctl, CONTROL.OUT);
  for (let start = Atomics.add(ctl, CONTROL.NEXT, chunk); start < rows; start = Atomics.add(ctl, CONTROL.NEXT, chunk)) {
    const n = Math.min(chunk, rows - start);
    k.forward(
      shape.table,
      shape.layers,
      x + start * shape.inWidth * 4,
      shape.inWidth,
      n,
      out + start * shape.outWidth * 4,
      shape.outWidth,
      shape.scratch,
      shape.widest,
    );
  }
}

/** What a helper thread is started with: everything that stays the same from call to call. */
export interface KernelThreadInit {
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  /** 1 … threads − 1 (the coordinator is thread 0). */
  readonly index: number;
  readonly table: number;
  readonly layers: number;
  readonly inWidth: number;
  readonly outWidth: number;
  readonly widest: number;
  /** This thread's own scratch. */
  readonly scratch: number;
}
