/// <reference types="svelte" />
/// <reference types="vite/client" />

declare module 'virtual:world-paths' {
  const paths: {
    width: number;
    height: number;
    rest: string;
    countries: Record<string, { d: string; x: number; y: number; marker: boolean }>;
  };
  export default paths;
}

declare module 'virtual:dense-kernel' {
  /** Our WebAssembly SIMD dense kernel, compiled at build time (web/build/dense-kernel-plugin.ts). */
  const bytes: Uint8Array<ArrayBuffer>;
  export default bytes;
  /** The same kernel importing a shared memory, for the threaded backend (model/runtime/dense-simd-threads.ts). */
  export const shared: Uint8Array<ArrayBuffer>;
}
