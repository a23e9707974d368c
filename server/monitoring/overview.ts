/**
 * The dashboard's overview counts: logs per version (from the drift buckets), active devices, outcomes (stored
 * and derived from chart uploads), open alerts and the rollout.
 */
import type { Overview } from '../../model/contract/index.ts';
import type { Deps } from '../deps.ts';

export async function fleetOverview(deps: Pick<Deps, 'store' | 'alerts' | 'registry'>): Promise<Overview> {
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
  return {
    logsPerVersion: perVersion,
    devices: Number(devices.n),
    outcomes: Number(outcomes.n),
    chartOutcomes: charts.reduce((a, c) => a + Number(c.n) * (JSON.parse(c.countries) as string[]).length, 0),
    openAlerts: open.length,
    rollout,
  };
}
