/**
 * Compiles the WebAssembly SIMD dense kernel (assembly/dense-kernel.ts) with
 * AssemblyScript, in memory. Node only: the web build inlines the result into
 * the worker (web/build/dense-kernel-plugin.ts) and unit tests call it
 * directly, so no binary is kept in the repository.
 */
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';
import { SHARED_MEMORY_MAX_PAGES } from './dense-kernel-abi.ts';

export const DENSE_KERNEL_SOURCE = fileURLToPath(new URL('./assembly/dense-kernel.ts', import.meta.url));

/**
 * The kernel's wasm bytes (about 4 KB; half a second to compile). `memory: 'shared'` builds the variant for
 * threads (dense-simd-threads.ts): it imports a shared memory that every thread's instance works in, instead of
 * owning one. Rejects with the compiler's messages.
 */
export async function compileDenseKernel(
  memory: 'own' | 'shared' = 'own',
  /** Another kernel with the same exports (tests: one that fails on purpose). */
  source = DENSE_KERNEL_SOURCE,
): Promise<Uint8Array<ArrayBuffer>> {
  const sharedFlags =
    memory === 'shared'
      ? ['--enable', 'threads', '--importMemory', '--sharedMemory', '--maximumMemory', String(SHARED_MEMORY_MAX_PAGES)]
      : [];
  let binary: Uint8Array<ArrayBuffer> | null = null;
  const errors: string[] = [];
  const { error } = await asc.main(
    [
      source,
      '--outFile',
      'dense-kernel.wasm',
      '-O3',
      '--runtime',
      'stub',
      '--noAssert',
      '--enable',
      'simd',
      ...sharedFlags,
    ],
    {
      writeFile(name, contents) {
        if (name.endsWith('.wasm') && typeof contents !== 'string') binary = new Uint8Array(contents);
      },
      stdout: { write: () => true } as never,
      stderr: {
        write: (s: string | Uint8Array) => {
          errors.push(typeof s === 'string' ? s : new TextDecoder().decode(s));
          return true;
        },
      } as never,
    },
  );
  if (error || !binary) {
    throw new Error(`AssemblyScript could not compile the dense kernel: ${error?.message ?? ''}\n${errors.join('')}`);
  }
  return binary;
}
