/**
 * The body of a helper thread of the threaded SIMD kernel
 * (dense-simd-threads.ts): instantiate the kernel on the shared memory, say
 * ready, then sleep in Atomics.wait until the coordinator posts a job, claim
 * chunks of it until none are left, and count itself done. Waking a sleeping
 * thread costs tens of microseconds, against hundreds for a postMessage round
 * trip, and the coordinator can wait for the helpers synchronously, so the
 * model stays a synchronous one.
 */
import {
  CONTROL,
  CONTROL_BYTES,
  claimChunks,
  type KernelExports,
  type KernelThreadInit,
  kernelImports,
} from './dense-kernel-abi.ts';

/** Runs until the coordinator sets STOP (or the thread is terminated). `ready` is called once, before the first wait. */
export function runKernelThread(init: KernelThreadInit, ready: () => void): void {
  const k = new WebAssembly.Instance(init.module, kernelImports(init.memory)).exports as unknown as KernelExports;
  const ctl = new Int32Array(init.memory.buffer, 0, CONTROL_BYTES / 4);
  let seen = Atomics.load(ctl, CONTROL.SEQ);
  ready();
  for (;;) {
    Atomics.wait(ctl, CONTROL.SEQ, seen);
    seen = Atomics.load(ctl, CONTROL.SEQ);
    if (Atomics.load(ctl, CONTROL.STOP) !== 0) return;
    try {
      claimChunks(k, ctl, init);
    } catch {
      Atomics.add(ctl, CONTROL.FAILED, 1);
    }
    Atomics.add(ctl, CONTROL.DONE, 1);
    Atomics.notify(ctl, CONTROL.DONE);
  }
}
