/**
 * Compiles our WebAssembly SIMD dense kernel at build time and inlines its
 * bytes into the worker as `virtual:dense-kernel`: the default export owns its
 * memory ('simd'), `shared` imports a shared one ('simd-threads'); about 4 KB
 * each. Nothing extra to fetch or precache, and the kernel is there offline
 * with the worker.
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
      const inline = async (memory: 'own' | 'shared') =>
        `Uint8Array.from(atob(${JSON.stringify(Buffer.from(await compileDenseKernel(memory)).toString('base64'))}), (c) => c.charCodeAt(0))`;
      return `export default ${await inline('own')};\nexport const shared = ${await inline('shared')};`;
    },
  };
}
