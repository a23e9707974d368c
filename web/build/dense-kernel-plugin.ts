/**
 * Compiles our WebAssembly SIMD dense kernel at build time and inlines its
 * bytes (about 4 KB) into the worker as `virtual:dense-kernel`: nothing extra
 * to fetch or precache, and the kernel is there offline with the worker.
 */
import type { Plugin } from 'vite';
import { compileDenseKernel, DENSE_KERNEL_SOURCE } from '../../model/runtime/dense-simd-build.ts';

const ID = 'virtual:dense-kernel';
const RESOLVED = `\0${ID}`;

export function denseKernelPlugin(): Plugin {
  return {
    name: 'jukebox-dense-kernel',
    resolveId: (id) => (id === ID ? RESOLVED : undefined),
    async load(id) {
      if (id !== RESOLVED) return undefined;
      this.addWatchFile(DENSE_KERNEL_SOURCE);
      const base64 = Buffer.from(await compileDenseKernel()).toString('base64');
      return `export default Uint8Array.from(atob(${JSON.stringify(base64)}), (c) => c.charCodeAt(0));`;
    },
  };
}
