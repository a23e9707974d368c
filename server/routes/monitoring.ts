/**
 * Monitoring routes for admins and the dashboard: drift report and time
 * series per version, performance (concept drift) from outcomes, alerts, an
 * overview; plus `GET /metrics` (Prometheus text) mounted at the root.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { ENDPOINTS, type MonitoringQuery } from '../../model/contract/index.ts';
import type { Deps } from '../deps.ts';
import { DomainError } from '../domain-error.ts';
import { COUNTING_RULE, type DayWindow } from '../drift/drift-service.ts';
import { type AuthEnv, requireRole } from '../http/auth.ts';
import { endpointMounter } from '../http/endpoint-routes.ts';
import { fleetOverview } from '../monitoring/overview.ts';

/**
 * The window the query names (without `from`/`to`, the alert window ending today), with the version, granularity
 * and kinds: the head of every windowed answer.
 */
function windowOf(q: MonitoringQuery, windowDays: number) {
  const to = q.to ?? new Date().toISOString().slice(0, 10);
  const from =
    q.from ?? new Date(Date.parse(`${to}T00:00:00Z`) - (windowDays - 1) * 86_400_000).toISOString().slice(0, 10);
  if (from > to) throw new DomainError('invalid-value', { problem: 'from is after to', from, to });
  const window: DayWindow = { from, to };
  return { version: q.version, window, granularity: q.granularity, kinds: q.kind };
}

export function monitoringRoutes(deps: Deps) {
  const app = new OpenAPIHono<AuthEnv>();
  const on = endpointMounter(app, deps);
  const days = deps.config.driftWindowDays;

  on(ENDPOINTS.driftReport, {}, async (_c, { query }) => {
    const q = windowOf(query, days);
    const t0 = performance.now();
    const r = await deps.drift.report(q.version, q.window, q.kinds);
    return {
      json: {
        ...r,
        kinds: [...r.kinds],
        countingRule: COUNTING_RULE,
        thresholds: deps.config.thresholds,
        computeMs: performance.now() - t0,
      },
    };
  });

  on(ENDPOINTS.driftTimeseries, {}, async (_c, { query }) => {
    const q = windowOf(query, days);
    return {
      json: {
        ...q,
        countingRule: COUNTING_RULE,
        points: await deps.drift.timeseries(q.version, q.window, q.granularity, q.kinds),
      },
    };
  });

  on(ENDPOINTS.performance, {}, async (_c, { query }) => {
    const q = windowOf(query, days);
    const m = await deps.registry.get(q.version);
    return {
      json: {
        ...q,
        evaluated: m?.manifest.evaluation.model ?? null,
        evaluatedSongs: m?.manifest.evaluation.songs ?? null,
        matching: `Each outcome is judged by the latest prediction of its song id (its fingerprint only when it has no id) by this version, in these traffic kinds, made on or before its chart date and at most ${deps.config.thresholds.matchHorizonDays} days before it.`,
        total: (await deps.drift.performance(q.version, q.window, null, q.kinds))[0] ?? null,
        points: await deps.drift.performance(q.version, q.window, q.granularity, q.kinds),
      },
    };
  });

  on(ENDPOINTS.shadowReport, {}, async (_c, { query }) => {
    const q = windowOf(query, days);
    return { json: { version: q.version, window: q.window, shadows: await deps.drift.shadow(q.version, q.window) } };
  });

  on(ENDPOINTS.alerts, {}, async (_c, { query }) => ({
    json: { alerts: await deps.alerts.list({ open: query.open === 'true' }) },
  }));

  on(ENDPOINTS.evaluateAlerts, {}, async () => ({ json: { open: await deps.alerts.evaluate() } }));

  on(ENDPOINTS.overview, {}, async () => ({ json: await fleetOverview(deps) }));

  return app;
}

/**
 * `GET /metrics`: admin token unless METRICS_PUBLIC=true. In cluster mode the
 * primary process aggregates every worker's registry (`metricsText`).
 */
export function metricsRoute(deps: Deps, metricsText: () => Promise<string> = () => deps.metrics.registry.metrics()) {
  const app = new OpenAPIHono<AuthEnv>();
  const on = endpointMounter(app, deps, '');
  const admin = requireRole(deps, 'admin');
  const auth: MiddlewareHandler<AuthEnv> = async (c, next) => (deps.config.metricsPublic ? next() : admin(c, next));
  on(ENDPOINTS.metrics, { auth: false, middleware: [auth] }, async (c) =>
    c.body(await metricsText(), 200, { 'content-type': deps.metrics.registry.contentType }),
  );
  return app;
}
