/**
 * Build of the field app (PWA) and, when the server engineer has added it,
 * the admin page. The service worker precaches the app shell, the default
 * model and the tfjs wasm binaries so the app starts and predicts offline.
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig, type Plugin } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
import { CROSS_ORIGIN_ISOLATION_HEADERS } from '../model/contract/isolation.ts';
import { requireSharedDataFile } from '../model/shared-data.ts';
import { catalogueDevMiddleware } from './build/catalogue-dev-middleware.ts';
import { denseKernelPlugin } from './build/dense-kernel-plugin.ts';
import { licenceCollector } from './build/third-party-licences-plugin.ts';
import { worldPathsPlugin } from './build/world-paths-plugin.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const wasmDir = join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
// Not the threaded build: its pthread workers re-evaluate the factory's source text, which minification breaks
// (ReferenceError: _scriptDir / e is not defined; see inference.worker.ts).
const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm'];
const MODEL_FILES = ['model.json', 'weights.bin', 'manifest.json'];
/** Only a model with boosted trees has it. */
const OPTIONAL_MODEL_FILES = ['trees.bin'];
const adminPage = join(here, 'admin/index.html');
const licences = licenceCollector();
/** Legal comments go to third-party-licenses.txt once each (see the plugin), not into every chunk. */
const comments = { legal: false, annotation: false, jsdoc: false };

/** Stable names for the lazily loaded tfjs backends, so the service worker can tell them apart. */
function backendChunkName(chunk: { moduleIds: readonly string[] }): string {
  for (const b of ['webgpu', 'wasm', 'cpu']) {
    if (chunk.moduleIds.some((id) => id.includes(`tfjs-backend-${b}/`))) return `assets/tfjs-${b}-[hash].js`;
  }
  return 'assets/[name]-[hash].js';
}

/** Serves the tfjs wasm binaries from our own origin (dev) and copies them next to the app (build). */
function tfjsWasmPlugin(): Plugin {
  return {
    name: 'jukebox-tfjs-wasm',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const name = req.url?.match(/^\/wasm\/([\w-]+\.wasm)$/)?.[1];
        if (!name || !WASM_FILES.includes(name)) return next();
        res.setHeader('content-type', 'application/wasm');
        createReadStream(join(wasmDir, name)).pipe(res);
      });
    },
    // Emitted into the bundle (not copied afterwards) so the service worker's precache manifest sees them.
    generateBundle() {
      for (const f of WASM_FILES) {
        this.emitFile({ type: 'asset', fileName: `wasm/${f}`, source: readFileSync(join(wasmDir, f)) });
      }
      // Development only, before the pipeline has published a default model: a throwaway model from elsewhere.
      const devModel = process.env.JUKEBOX_DEV_MODEL_DIR;
      if (devModel && !existsSync(join(root, 'public/models/default/manifest.json'))) {
        for (const f of [...MODEL_FILES, ...OPTIONAL_MODEL_FILES.filter((o) => existsSync(join(devModel, o)))]) {
          this.emitFile({ type: 'asset', fileName: `models/default/${f}`, source: readFileSync(join(devModel, f)) });
        }
      }
    },
  };
}

export default defineConfig({
  root: here,
  publicDir: join(root, 'public'),
  // The worker imports the model runtime and contract from ../model.
  server: { port: 8610, strictPort: true, fs: { allow: [root] }, headers: CROSS_ORIGIN_ISOLATION_HEADERS },
  preview: { port: 8611, strictPort: true, headers: CROSS_ORIGIN_ISOLATION_HEADERS },
  worker: {
    format: 'es',
    plugins: () => [licences.plugin(false), denseKernelPlugin()],
    rollupOptions: { output: { chunkFileNames: backendChunkName, comments } },
  },
  build: {
    outDir: join(root, 'dist/web'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 800,
    rollupOptions: {
      input: {
        main: join(here, 'index.html'),
        // JUKEBOX_WEB_ONLY=1 builds the field app alone (e.g. while the admin page is being written).
        ...(existsSync(adminPage) && !process.env.JUKEBOX_WEB_ONLY ? { admin: adminPage } : {}),
      },
      output: { comments },
    },
  },
  plugins: [
    svelte(),
    licences.plugin(true),
    worldPathsPlugin(),
    tfjsWasmPlugin(),
    {
      name: 'jukebox-dev-catalogue',
      configureServer(server) {
        server.middlewares.use(catalogueDevMiddleware(() => requireSharedDataFile('song-catalog.csv')));
      },
    },
    VitePWA({
      strategies: 'generateSW',
      registerType: 'prompt',
      injectRegister: null,
      manifest: {
        name: 'Jukebox Edge',
        short_name: 'Jukebox',
        description: 'Predict in which countries a song will chart, on your device, offline.',
        theme_color: '#1d2b53',
        background_color: '#f7f7fb',
        display: 'standalone',
        start_url: '/',
        scope: '/',
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: '/icons/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      workbox: {
        // Precached: what a phone needs to start and predict offline (shell, model, SIMD wasm, cpu fallback).
        // The web manifest and its icons are added by the plugin itself.
        globPatterns: [
          '**/*.{js,css,html}',
          'models/default/{model.json,weights.bin,trees.bin,manifest.json}',
          'wasm/tfjs-backend-wasm-simd.wasm',
        ],
        // The admin dashboard is an online tool for the label's staff, not part of the field app. The WebGPU
        // backend and the non-SIMD wasm build are cached on first use instead (see runtimeCaching):
        // a device that never needs them never downloads them, and offline the worker falls through to wasm.
        globIgnores: ['admin/**', 'assets/admin-*', 'assets/tfjs-webgpu-*', '**/node_modules/**'],
        maximumFileSizeToCacheInBytes: 3 * 1024 * 1024,
        navigateFallback: '/index.html',
        navigateFallbackDenylist: [/^\/api\//, /^\/admin/, /^\/metrics/, /^\/third-party-licenses\.txt$/],
        cleanupOutdatedCaches: true,
        runtimeCaching: [
          {
            // The non-SIMD binary (old browsers), cached on first use.
            urlPattern: /\/wasm\/.*\.wasm$/,
            handler: 'CacheFirst',
            options: { cacheName: 'jukebox-wasm' },
          },
          {
            urlPattern: /\/assets\/tfjs-webgpu-.*\.js$/,
            handler: 'CacheFirst',
            options: { cacheName: 'jukebox-webgpu' },
          },
          {
            // Background Sync where the browser has it: an upload that fails for want of a network is kept
            // by the service worker and replayed when connectivity returns, even with the app closed. The
            // page's own sync engine stays the system of record: ingest is idempotent by id, so a replayed
            // batch is stored once and the page marks those ids synced on its next run.
            urlPattern: /\/api\/v1\/(logs|outcomes|devices\/me\/events)$/,
            method: 'POST',
            handler: 'NetworkOnly',
            options: { backgroundSync: { name: 'jukebox-uploads', options: { maxRetentionTime: 7 * 24 * 60 } } },
          },
        ],
      },
    }),
  ],
});
