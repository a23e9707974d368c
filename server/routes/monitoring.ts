/**
 * Monitoring routes for admins and the dashboard: drift report and time
 * series per version, performance (concept drift) from outcomes, alerts, an
 * overview; plus `GET /metrics` (Prometheus text) mounted at the root.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { ModelVersionSchema, TRAFFIC_KINDS, type TrafficKind, TrafficKindSchema } from '../../model/contract/index.ts';
import type { Deps } from '../deps.ts';
import { COUNTING_RULE, DEFAULT_KINDS, type Window } from '../drift/drift-service.ts';
import { type AuthEnv, requireRole } from '../http/auth.ts';
import { ApiError } from '../http/errors.ts';

const Day = z.iso.date();
const QuerySchema = z.object({
  version: ModelVersionSchema,
  from: Day.optional(),
  to: Day.optional(),
  granularity: z.enum(['day', 'week']).default('day'),
  /** Traffic kinds, comma-separated (`interactive,batch`), or `all`; default interactive. */
  kind: z
    .string()
    .optional()
    .transform((v, ctx): TrafficKind[] => {
      if (v === undefined || v === '') return [...DEFAULT_KINDS];
      if (v === 'all') return [...TRAFFIC_KINDS];
      const out: TrafficKind[] = [];
      for (const k of v.split(',')) {
        const r = TrafficKindSchema.safeParse(k.trim());
        if (!r.success) {
          ctx.addIssue({ code: 'custom', message: `kind must be all or a list of ${TRAFFIC_KINDS.join(', ')}` });
          return z.NEVER;
        }
        out.push(r.data);
      }
      return out;
    }),
});

function query(c: { req: { query: () => Record<string, string> } }, windowDays: number) {
  const r = QuerySchema.safeParse(c.req.query());
  if (!r.success) {
    throw new ApiError(
      'validation-failed',
      r.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })),
    );
  }
  const to = r.data.to ?? new Date().toISOString().slice(0, 10);
  const from =
    r.data.from ?? new Date(Date.parse(`${to}T00:00:00Z`) - (windowDays - 1) * 86_400_000).toISOString().slice(0, 10);
  if (from > to) throw new ApiError('invalid-value', { problem: 'from is after to', from, to });
  const window: Window = { from, to };
  return { version: r.data.version, window, granularity: r.data.granularity, kinds: r.data.kind };
}

export function monitoringRoutes(deps: Deps) {
  const app = new Hono<AuthEnv>();
  const admin = requireRole(deps, 'admin');
  const days = deps.config.driftWindowDays;

  app.get('/drift/report', admin, async (c) => {
    const q = query(c, days);
    const t0 = performance.now();
    const r = await deps.drift.report(q.version, q.window, q.kinds);
    return c.json({
      ...r,
      countingRule: COUNTING_RULE,
      thresholds: deps.config.thresholds,
      computeMs: performance.now() - t0,
    });
  });

  app.get('/drift/timeseries', admin, async (c) => {
    const q = query(c, days);
    return c.json({
      version: q.version,
      window: q.window,
      granularity: q.granularity,
      kinds: q.kinds,
      countingRule: COUNTING_RULE,
      points: await deps.drift.timeseries(q.version, q.window, q.granularity, q.kinds),
    });
  });

  app.get('/performance', admin, async (c) => {
    const q = query(c, days);
    const m = await deps.registry.get(q.version);
    return c.json({
      version: q.version,
      window: q.window,
      granularity: q.granularity,
      kinds: q.kinds,
      evaluated: m?.manifest.evaluation.model ?? null,
      evaluatedSongs: m?.manifest.evaluation.songs ?? null,
      matching: `Each outcome is judged by the latest prediction of its song id (its fingerprint only when it has no id) by this version, in these traffic kinds, made on or before its chart date and at most ${deps.config.thresholds.matchHorizonDays} days before it.`,
      total: (await deps.drift.performance(q.version, q.window, null, q.kinds))[0] ?? null,
      points: await deps.drift.performance(q.version, q.window, q.granularity, q.kinds),
    });
  });

  app.get('/shadow', admin, async (c) => {
    const q = query(c, days);
    return c.json({ version: q.version, window: q.window, shadows: await deps.drift.shadow(q.version, q.window) });
  });

  app.get('/alerts', admin, async (c) =>
    c.json({ alerts: await deps.alerts.list({ open: c.req.query('open') === 'true' }) }),
  );

  app.post('/alerts/evaluate', admin, async (c) => c.json({ open: await deps.alerts.evaluate() }));

  app.get('/overview', admin, async (c) => {
    const db = deps.store.db;
    const [logs, devices, outcomes, open, rollout, charts] = await Promise.all([
      db.selectFrom('drift_buckets').select(['model_version', 'stats']).execute(),
      db
        .selectFrom('devices')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('revoked_at', 'is', null)
        .executeTakeFirstOrThrow(),
      db
        .selectFrom('outcomes')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
      deps.alerts.list({ open: true }),
      deps.registry.rollout(),
      // Chart uploads stand for songs × countries outcomes each (derived when read).
      db
        .selectFrom('chart_dates')
        .innerJoin('chart_songs', 'chart_songs.date', 'chart_dates.date')
        .select(['chart_dates.countries', (eb) => eb.fn.countAll<number>().as('n')])
        .where('chart_dates.complete', '=', 1)
        .groupBy(['chart_dates.date', 'chart_dates.countries'])
        .execute(),
    ]);
    const perVersion: Record<string, { rows: number; distinct: number }> = {};
    for (const b of logs) {
      const s = JSON.parse(b.stats) as { rows: number; distinct: number };
      const e = perVersion[b.model_version] ?? { rows: 0, distinct: 0 };
      e.rows += s.rows;
      e.distinct += s.distinct;
      perVersion[b.model_version] = e;
    }
    return c.json({
      logsPerVersion: perVersion,
      devices: Number(devices.n),
      outcomes: Number(outcomes.n),
      chartOutcomes: charts.reduce((a, c) => a + Number(c.n) * (JSON.parse(c.countries) as string[]).length, 0),
      openAlerts: open.length,
      rollout,
    });
  });

  return app;
}

/**
 * `GET /metrics`: admin token unless METRICS_PUBLIC=true. In cluster mode the
 * primary process aggregates every worker's registry (`metricsText`).
 */
export function metricsRoute(deps: Deps, metricsText: () => Promise<string> = () => deps.metrics.registry.metrics()) {
  const app = new Hono<AuthEnv>();
  const admin = requireRole(deps, 'admin');
  app.get('/metrics', async (c, next) => (deps.config.metricsPublic ? next() : admin(c, next)));
  app.get('/metrics', async (c) =>
    c.body(await metricsText(), 200, { 'content-type': deps.metrics.registry.contentType }),
  );
  return app;
}
