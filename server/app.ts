/**
 * Builds the Hono app: security middleware, one sub-app per resource under
 * /api/v1, /metrics, the static PWA, and the one error shaper.
 */
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { secureHeaders } from 'hono/secure-headers';
import type { Deps } from './deps.ts';
import { ApiError, errorHandler } from './http/errors.ts';
import { defaultBodyLimit } from './http/limits.ts';
import { openApiDocument } from './http/openapi.ts';
import { staticRoutes } from './http/static.ts';
import { jobRoutes } from './jobs/job-routes.ts';
import { catalogueRoutes } from './routes/catalogue.ts';
import { deviceEventRoutes } from './routes/device-events.ts';
import { enrollmentRoutes } from './routes/enrollment.ts';
import { ingestRoutes } from './routes/ingest.ts';
import { modelRoutes } from './routes/models.ts';
import { metricsRoute, monitoringRoutes } from './routes/monitoring.ts';

export function createApp(deps: Deps, opts: { metricsText?: () => Promise<string> } = {}): Hono {
  const app = new Hono();
  app.use(
    '*',
    secureHeaders({
      // The admin page and the PWA load only same-origin scripts; tfjs needs wasm-unsafe-eval.
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'", "'wasm-unsafe-eval'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        workerSrc: ["'self'", 'blob:'],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
      },
      crossOriginEmbedderPolicy: false,
    }),
  );
  app.use('*', defaultBodyLimit(deps.config.jsonBodyLimitBytes));
  app.use('*', async (c, next) => {
    await next();
    deps.metrics.httpRequests.inc({ method: c.req.method, status: String(c.res.status) });
  });
  if (deps.config.appOrigin) {
    app.use(
      '/api/*',
      cors({
        origin: deps.config.appOrigin,
        allowHeaders: ['authorization', 'content-type', 'if-none-match'],
        allowMethods: ['GET', 'POST', 'PUT', 'OPTIONS'],
        exposeHeaders: ['etag', 'retry-after'],
        maxAge: 600,
      }),
    );
  }
  app.onError(
    errorHandler((err, c) =>
      deps.log(
        `error: ${c.req.method} ${c.req.path}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      ),
    ),
  );

  app.get('/healthz', async (c) => {
    await deps.store.db.selectFrom('models').select('version').limit(1).execute();
    return c.json({ ok: true, store: deps.store.dialect });
  });
  const openapi = JSON.stringify(openApiDocument());
  const api = new Hono();
  api.get('/openapi.json', (c) => c.body(openapi, 200, { 'content-type': 'application/json' }));
  api.route('/', enrollmentRoutes(deps));
  api.route('/', deviceEventRoutes(deps));
  api.route('/', ingestRoutes(deps));
  api.route('/', modelRoutes(deps));
  api.route('/', catalogueRoutes(deps));
  api.route('/', monitoringRoutes(deps));
  api.route('/', jobRoutes(deps));
  api.all('*', () => {
    throw new ApiError('not-found');
  });
  app.route('/api/v1', api);
  app.route('/', metricsRoute(deps, opts.metricsText));
  app.all('/api/*', () => {
    throw new ApiError('not-found');
  });
  app.route('/', staticRoutes(deps.config.webDist));
  app.notFound((c) => c.json({ error: { code: 'not-found', message: 'Nothing exists at this address.' } }, 404));
  return app;
}
