/**
 * Serves the built PWA from `dist/web`: static files, `/admin/` → the admin
 * page, SPA fallback to index.html, no-cache for the service worker and web
 * manifest so an update is always seen, and cross-origin isolation headers
 * (model/contract/isolation.ts) so the app can run its kernel on threads.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import { type Context, Hono } from 'hono';
import { CROSS_ORIGIN_ISOLATION_HEADERS } from '../../model/contract/isolation.ts';

export function staticRoutes(webDist: string) {
  const app = new Hono();
  const root = resolve(webDist);
  if (!existsSync(join(root, 'index.html'))) {
    app.get('*', (c, next) =>
      c.req.path.startsWith('/api/') || c.req.path === '/metrics'
        ? next()
        : c.text(
            `The web app is not built (${root}/index.html is missing): run \`npx vite build -c web/vite.config.ts\`.`,
            503,
          ),
    );
    return app;
  }
  // A missing file (an old build's hashed asset, a typo) is a 404, never the app shell: served as a script with a
  // year-long immutable cache, the HTML would break the page until the cache expires.
  const isFile = (path: string) => /\/assets\//.test(path) || /\.[A-Za-z0-9]+$/.test(path);
  const notFound = (c: Context) => c.text('Not found', 404, { 'cache-control': 'no-store' });
  const noCache = (path: string) => /(^|\/)sw\.js$|\.webmanifest$|(^|\/)registerSW\.js$/.test(path);
  app.use('*', async (c, next) => {
    await next();
    if (!c.req.path.startsWith('/api/') && c.req.path !== '/metrics') {
      for (const [name, value] of Object.entries(CROSS_ORIGIN_ISOLATION_HEADERS)) c.header(name, value);
    }
    if (noCache(c.req.path)) c.header('Cache-Control', 'no-cache');
    else if (c.req.path.startsWith('/assets/') && c.res.status === 200)
      c.header('Cache-Control', 'public, max-age=31536000, immutable');
  });
  app.get('/admin', (c) => c.redirect('/admin/'));
  if (!existsSync(join(root, 'admin/index.html'))) {
    app.get('/admin/*', (c) => c.text(`The admin dashboard is not built (${root}/admin/index.html is missing).`, 503));
  }
  app.get('/admin/*', (c, next) => (isFile(c.req.path) && !existsSync(join(root, c.req.path)) ? notFound(c) : next()));
  app.get(
    '/admin/*',
    serveStatic({
      root,
      rewriteRequestPath: (p) => (existsSync(join(root, p)) && !p.endsWith('/') ? p : '/admin/index.html'),
    }),
  );
  app.get('*', serveStatic({ root }));
  // SPA fallback: any other GET that is not a file or an API path gets the app shell.
  app.get('*', async (c, next) => {
    if (c.req.path.startsWith('/api/') || c.req.path === '/metrics') return next();
    if (isFile(c.req.path)) return notFound(c);
    return serveStatic({ root, path: 'index.html' })(c, next);
  });
  return app;
}
