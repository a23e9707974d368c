/**
 * The headers that make the app's pages cross-origin isolated, so that the
 * inference worker gets SharedArrayBuffer and can run our WebAssembly kernel
 * on several threads ('simd-threads'). The app loads nothing from other
 * origins, so `require-corp` costs it nothing. Sent by the product server, the
 * Vite dev and preview servers, and the e2e server alike.
 */
export const CROSS_ORIGIN_ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
} as const;
