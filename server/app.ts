/**
 * Builds the Hono app: security middleware, one sub-app per resource under
 * /api/v1, /metrics, the static PWA, and the one error shaper.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Hono } from 'hono';
import { cors } from 'hono/cors';
import { secureHeaders } from 'hono/secure-headers';
import { ENDPOINTS } from '../model/contract/index.ts';
import type { Deps } from './deps.ts';
import { DomainError } from './domain-error.ts';
import type { AuthEnv } from './http/auth.ts';
import { API_PREFIX, endpointMounter } from './http/endpoint-routes.ts';
import { errorHandler } from './http/errors.ts';
import { defaultBodyLimit } from './http/limits.ts';
import { staticRoutes } from './http/static.ts';
import { jobRoutes } from './jobs/job-routes.ts';
import { catalogueRoutes } from './routes/catalogue.ts';
import { deviceEventRoutes } from './routes/device-events.ts';
import { enrollmentRoutes } from './routes/enrollment.ts';
import { ingestRoutes } from './routes/ingest.ts';
import { modelRoutes } from './routes/models.ts';
import { metricsRoute, monitoringRoutes } from './routes/monitoring.ts';

const READ_ONLY_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

export function createApp(deps: Deps, opts: { metricsText?: () => Promise<string> } = {}): Hono {
  const app = new OpenAPIHono<AuthEnv>();
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
  // Acknowledged means durable: no answer to a request that may have written leaves before its commit is on disk
  // (with SQLite's group commit, one fsync of the log shared by the requests that committed meanwhile).
  app.use('*', async (c, next) => {
    await next();
    if (!READ_ONLY_METHODS.has(c.req.method)) await deps.store.synced();
  });
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

  endpointMounter(app, deps, '')(ENDPOINTS.healthz, {}, async () => {
    await deps.store.db.selectFrom('models').select('version').limit(1).execute();
    return { json: { ok: true as const, store: deps.store.dialect } };
  });
  const api = new OpenAPIHono<AuthEnv>();
  // Generated once, on first request, from every route registered below (the root app has them all by then).
  let openapi: string | null = null;
  endpointMounter(api, deps)(ENDPOINTS.openapi, {}, async (c) => {
    openapi ??= JSON.stringify(openApiDocument(app));
    return c.body(openapi, 200, { 'content-type': 'application/json' });
  });
  api.route('/', enrollmentRoutes(deps));
  api.route('/', deviceEventRoutes(deps));
  api.route('/', ingestRoutes(deps));
  api.route('/', modelRoutes(deps));
  api.route('/', catalogueRoutes(deps));
  api.route('/', monitoringRoutes(deps));
  api.route('/', jobRoutes(deps));
  api.all('*', () => {
    throw new DomainError('not-found');
  });
  app.route(API_PREFIX, api);
  app.route('/', metricsRoute(deps, opts.metricsText));
  app.all('/api/*', () => {
    throw new DomainError('not-found');
  });
  app.route('/', staticRoutes(deps.config.webDist));
  app.notFound((c) => c.json({ error: { code: 'not-found', message: 'Nothing exists at this address.' } }, 404));
  return app as unknown as Hono;
}

/** The OpenAPI 3.1 document of every route mounted from the contract's endpoint table. */
export function openApiDocument(app: OpenAPIHono<AuthEnv>) {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  return app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'Jukebox Edge server',
      version: '1',
      description:
        'Ingest, model registry, rollout, drift and performance monitoring. Every error is { error: { code, message, details } } with a code from model/contract/errors.ts. Roles: device tokens (from enrollment) and admin tokens; admin may call every device route. Generated from model/contract/endpoints.ts.',
    },
  });
}
