/**
 * The e2e (and benchmark) server: serves the built app from dist/web with an
 * SPA fallback and the product's cross-origin isolation headers, and
 * `GET /api/v1/catalogue` built from the shared catalogue CSV —
 * unauthenticated, as the app fetches it before enrollment exists.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve } from 'node:path';
import { ENDPOINTS } from '../../model/contract/endpoints.ts';
import { CROSS_ORIGIN_ISOLATION_HEADERS } from '../../model/contract/isolation.ts';
import { requireSharedDataFile } from '../../model/shared-data.ts';
import { buildCatalogue } from '../../web/build/catalogue-dev-middleware.ts';

/** The built app: this tree's dist/web, or JUKEBOX_WEB_DIST (`bench:ab --harness head` serves an older build with it). */
export const DIST = process.env.JUKEBOX_WEB_DIST
  ? resolve(process.env.JUKEBOX_WEB_DIST)
  : resolve(import.meta.dirname, '../../dist/web');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.bin': 'application/octet-stream',
  '.md': 'text/markdown; charset=utf-8',
};

export interface TestServer {
  readonly url: string;
  /** How many times the catalogue was requested. */
  readonly catalogueHits: () => number;
  /** Serves a changed sw.js from now on, as a new deployment would (tests the update prompt). */
  readonly bumpServiceWorker: () => void;
  close(): Promise<void>;
}

export interface TestServerOptions {
  /** Extra folders served under a URL prefix (the benchmark's ONNX Runtime files). */
  readonly mounts?: Record<string, string>;
  /** Send COOP/COEP as the product server does (default); false stands for a proxy that drops them. */
  readonly isolated?: boolean;
}

export async function startTestServer(port = 0, options: TestServerOptions = {}): Promise<TestServer> {
  const { mounts = {}, isolated = true } = options;
  if (!existsSync(join(DIST, 'index.html'))) throw new Error(`${DIST} has no build: run npm run build:web first`);
  const catalogue = Buffer.from(JSON.stringify(buildCatalogue(requireSharedDataFile('song-catalog.csv'))));
  let hits = 0;
  let swVersion = 0;
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (path === ENDPOINTS.catalogue.path) {
      hits++;
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(catalogue);
      return;
    }
    if (path.startsWith('/api/')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'not-found', message: 'Nothing exists at this address.' } }));
      return;
    }
    const mount = Object.keys(mounts).find((prefix) => path.startsWith(prefix));
    const base = mount ? mounts[mount]! : DIST;
    let file = normalize(join(base, mount ? path.slice(mount.length) : path));
    if (!file.startsWith(base)) {
      res.writeHead(403).end();
      return;
    }
    if (!existsSync(file) || statSync(file).isDirectory()) {
      // SPA fallback for navigations; a missing asset is a real 404.
      if (extname(path) !== '') {
        res.writeHead(404).end();
        return;
      }
      file = join(DIST, 'index.html');
    }
    const headers: Record<string, string> = {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      ...(isolated ? CROSS_ORIGIN_ISOLATION_HEADERS : {}),
    };
    if (file.endsWith('sw.js') || file.endsWith('.html')) headers['cache-control'] = 'no-cache';
    res.writeHead(200, headers);
    const body = readFileSync(file);
    res.end(
      file === join(DIST, 'sw.js') && swVersion > 0
        ? Buffer.concat([body, Buffer.from(`\n// deploy ${swVersion}\n`)])
        : body,
    );
  });
  await new Promise<void>((ok) => server.listen(port, '127.0.0.1', ok));
  const { port: actual } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${actual}`,
    catalogueHits: () => hits,
    bumpServiceWorker: () => {
      swVersion++;
    },
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}
