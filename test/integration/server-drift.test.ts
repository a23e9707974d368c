/**
 * Drift detection end to end: an injected shift (danceability +0.2 on half
 * the logs) raises an alert on that feature only, POSTed to the webhook once;
 * a resample of the training songs repeated many times, or a few songs
 * predicted thousands of times, does not alarm (duplicates count once).
 */

import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COUNTRY_CODES, type PredictionLog } from '../../model/contract/index.ts';
import { psi } from '../../model/drift/stats.ts';
import { catalogueSongs, fixtureModel, makeLog, rng } from '../../server/testing/fixtures.ts';
import { createTestServer, type TestServer } from '../../server/testing/harness.ts';

interface Report {
  rows: number;
  distinct: number;
  status: string;
  features: {
    name: string;
    psi: number;
    ksPValueAdjusted: number;
    jsDistance: number;
    status: string;
    reference: number[];
    observedRaw: number[];
  }[];
  outputs: { top1Psi: number; entropyPsi: number; status: string };
}

const training = catalogueSongs().slice(0, 400);
const today = new Date().toISOString().slice(0, 10);

async function send(s: TestServer, logs: PredictionLog[]): Promise<void> {
  for (let i = 0; i < logs.length; i += 500) {
    const r = await s.req('/api/v1/logs', { json: { logs: logs.slice(i, i + 500) } });
    expect(r.status).toBe(200);
  }
}

async function report(s: TestServer, version: string): Promise<Report> {
  const r = await s.req(`/api/v1/drift/report?version=${version}&from=${today}&to=${today}`);
  expect(r.status).toBe(200);
  return (await r.json()) as Report;
}

describe('drift detection', () => {
  let s: TestServer;
  const hooks: unknown[] = [];
  beforeAll(async () => {
    s = await createTestServer({
      config: { alertWebhookUrl: 'http://127.0.0.1:8799/hook' },
      webhookSender: async (_url, body) => {
        hooks.push(body);
        return true;
      },
    });
  });
  afterAll(async () => s.close());

  it('does not alarm on a resample of the training songs repeated many times', async () => {
    const v = await s.publish(await fixtureModel({ salt: 'r', songs: training.map((t) => t.features) }));
    await s.req(`/api/v1/models/${v}/promote`, { method: 'POST' });
    const r = rng(42);
    const logs = Array.from({ length: 6000 }, () =>
      makeLog(training[Math.floor(r() * training.length)]!, { deviceId: 'd1', modelVersion: v }),
    );
    await send(s, logs);
    const rep = await report(s, v);
    expect(rep.rows).toBe(6000);
    expect(rep.distinct).toBeLessThanOrEqual(400);
    expect(rep.distinct).toBeGreaterThan(380);
    expect(rep.status).toBe('ok');
    for (const f of rep.features) {
      expect(f.psi, f.name).toBeLessThan(0.1);
      expect(f.ksPValueAdjusted, f.name).toBeGreaterThan(0.05);
    }
    expect(rep.outputs.status).toBe('ok');
    expect((await (await s.req('/api/v1/alerts/evaluate', { method: 'POST' })).json()) as { open: unknown[] }).toEqual({
      open: [],
    });
  });

  it('does not let a few songs predicted thousands of times fake drift (raw counts would)', async () => {
    const v = await s.publish(await fixtureModel({ salt: 'q', songs: training.map((t) => t.features) }));
    const logs = training.map((t) => makeLog(t, { deviceId: 'd1', modelVersion: v }));
    // 20 high-danceability songs, 200 times each: 4000 raw rows of a very different distribution.
    const hot = [...training].sort((a, b) => b.features.danceability - a.features.danceability).slice(0, 20);
    for (const h of hot) for (let i = 0; i < 200; i++) logs.push(makeLog(h, { deviceId: 'd1', modelVersion: v }));
    await send(s, logs);
    const rep = await report(s, v);
    expect(rep.rows).toBe(4400);
    expect(rep.distinct).toBe(400);
    expect(rep.status).toBe('ok');
    const dance = rep.features.find((f) => f.name === 'danceability')!;
    expect(dance.psi).toBeLessThan(0.01);
    // The same statistic on raw rows would alarm: this is what distinct counting prevents.
    expect(psi(dance.reference, dance.observedRaw)).toBeGreaterThan(0.25);
  });

  it('detects danceability +0.2 on half the logs, alerts on that feature only, webhook once per episode', async () => {
    const v = await s.publish(await fixtureModel({ salt: 's', songs: training.map((t) => t.features) }));
    // Make it production so the alert evaluation watches it.
    await s.req(`/api/v1/models/${v}/promote`, { method: 'POST' });
    const r = rng(7);
    const logs = Array.from({ length: 4000 }, (_, i) =>
      makeLog(training[Math.floor(r() * training.length)]!, {
        deviceId: 'd1',
        modelVersion: v,
        danceShift: i % 2 === 0 ? 0.2 : 0,
      }),
    );
    await send(s, logs);
    const rep = await report(s, v);
    const dance = rep.features.find((f) => f.name === 'danceability')!;
    expect(dance.psi).toBeGreaterThan(0.25);
    expect(dance.ksPValueAdjusted).toBeLessThan(0.001);
    expect(dance.jsDistance).toBeGreaterThan(0.1);
    expect(dance.status).toBe('alert');
    for (const f of rep.features.filter((x) => x.name !== 'danceability')) expect(f.status, f.name).toBe('ok');
    expect(rep.status).toBe('alert');

    hooks.length = 0;
    const open1 = (
      (await (await s.req('/api/v1/alerts/evaluate', { method: 'POST' })).json()) as {
        open: { feature: string; severity: string; metric: string }[];
      }
    ).open;
    const danceAlert = open1.find((a) => a.metric === 'feature-drift' && a.feature === 'danceability');
    expect(danceAlert?.severity).toBe('alert');
    expect(open1.filter((a) => a.metric === 'feature-drift').map((a) => a.feature)).toEqual(['danceability']);
    const hooksAfterFirst = hooks.length;
    expect(hooksAfterFirst).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(hooks)).toContain('danceability');
    await s.req('/api/v1/alerts/evaluate', { method: 'POST' });
    expect(hooks.length).toBe(hooksAfterFirst);
    const stored = (await (await s.req('/api/v1/alerts')).json()) as {
      alerts: { feature: string | null; notifiedAt: string | null }[];
    };
    expect(stored.alerts.find((a) => a.feature === 'danceability')?.notifiedAt).not.toBeNull();
    const metrics = await (await s.req('/metrics')).text();
    expect(metrics).toMatch(
      new RegExp(`jukebox_drift_feature_psi\\{version="${v}",feature="danceability"\\} 0\\.[2-9]`),
    );
    expect(metrics).toContain('jukebox_alert_state{');
  });

  it('resolves the episode when the version is no longer live', async () => {
    const rollback = await s.req('/api/v1/rollout/rollback', { method: 'POST' });
    expect(rollback.status).toBe(200);
    const open = (
      (await (await s.req('/api/v1/alerts/evaluate', { method: 'POST' })).json()) as { open: { feature: string }[] }
    ).open;
    expect(open.some((a) => a.feature === 'danceability')).toBe(false);
    const all = (await (await s.req('/api/v1/alerts')).json()) as {
      alerts: { feature: string | null; resolvedAt: string | null }[];
    };
    expect(all.alerts.find((a) => a.feature === 'danceability')?.resolvedAt).not.toBeNull();
  });

  it('raises a performance alert when outcomes contradict the predictions (concept drift)', async () => {
    const v = await s.publish(await fixtureModel({ salt: 'perf', songs: training.map((t) => t.features) }));
    await s.req(`/api/v1/models/${v}/promote`, { method: 'POST' });
    const logs = training.slice(0, 200).map((t) => makeLog(t, { deviceId: 'd1', modelVersion: v }));
    await send(s, logs);
    // In every country, the songs the model rates below that country's median charted and the others did
    // not: every per-country AUC is 0.
    const medians = COUNTRY_CODES.map((_, c) => {
      const xs = logs.map((l) => l.outputs[c]!).sort((a, b) => a - b);
      return (xs[99]! + xs[100]!) / 2;
    });
    const outcomes = logs.flatMap((l) =>
      COUNTRY_CODES.map((country, c) => ({
        id: uuidv7(),
        song: { songId: l.songId! },
        country,
        charted: l.outputs[c]! < medians[c]!,
        date: today,
        source: 'chart-upload' as const,
        recordedAt: new Date().toISOString(),
      })),
    );
    for (let i = 0; i < outcomes.length; i += 1000) {
      expect((await s.req('/api/v1/outcomes', { json: { outcomes: outcomes.slice(i, i + 1000) } })).status).toBe(200);
    }
    const perf = (await (await s.req(`/api/v1/performance?version=${v}&from=${today}&to=${today}`)).json()) as {
      points: { auc: number; matched: number; macroAuc: { value: number; hi: number } }[];
    };
    expect(perf.points[0]?.matched).toBe(200 * COUNTRY_CODES.length);
    expect(perf.points[0]?.auc).toBe(0);
    expect(perf.points[0]?.macroAuc.hi).toBe(0);
    const open = (
      (await (await s.req('/api/v1/alerts/evaluate', { method: 'POST' })).json()) as {
        open: { metric: string; severity: string; version: string }[];
      }
    ).open;
    expect(open).toContainEqual(
      expect.objectContaining({ metric: 'performance', severity: 'alert', version: v, statistic: 'macro-auc-drop' }),
    );
  });
});
