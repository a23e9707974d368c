/**
 * A helper thread of the threaded SIMD kernel ('simd-threads'), started by
 * the inference worker. Its first message carries the kernel module and the
 * shared memory; from then on it sleeps in Atomics.wait between jobs and never
 * reads another message.
 */
import type { KernelThreadInit } from '../../../../model/runtime/dense-kernel-abi.ts';
import { runKernelThread } from '../../../../model/runtime/dense-kernel-thread.ts';

self.addEventListener(
  'message',
  (event: MessageEvent<KernelThreadInit>) => runKernelThread(event.data, () => self.postMessage('ready')),
  { once: true },
);
