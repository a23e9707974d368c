/**
 * Monitoring on real data the model never saw (test/replay/scenario.ts):
 * quiet inputs raise nothing; a tempo shift is flagged on tempo alone; the
 * server's macro and pooled AUC and top-5 equal an offline computation; twin
 * songs keep their own outcomes; re-predicting later does not rewrite an
 * earlier period; and outcomes that get worse while inputs stay quiet open a
 * performance alert that says so.
 */
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURE_NAMES, fromVector, type PredictionLog } from '../../model/contract/index.ts';
import type { PerformancePoint } from '../../server/drift/performance.ts';
import type { DriftReport } from '../../server/drift/report.ts';
import { offlineMetrics, predict, type Replay, runReplay } from '../replay/scenario.ts';

// Without the shared data, runReplay fails every test here with requireSharedDataFile's message (never skipped).

interface Perf {
  points: PerformancePoint[];
  total: PerformancePoint | null;
}

async function report(r: Replay, from: string, to: string, kind = ''): Promise<DriftReport> {
  const res = await r.server.req(`/api/v1/drift/report?version=${r.version}&from=${from}&to=${to}${kind}`);
  expect(res.status).toBe(200);
  return (await res.json()) as DriftReport;
}

async function perf(r: Replay, from: string, to: string): Promise<Perf> {
  const res = await r.server.req(`/api/v1/performance?version=${r.version}&from=${from}&to=${to}&granularity=day`);
  expect(res.status).toBe(200);
  return (await res.json()) as Perf;
}

async function evaluate(r: Replay): Promise<{ metric: string; feature: string | null; message: string }[]> {
  const res = await r.server.req('/api/v1/alerts/evaluate', { method: 'POST' });
  expect(res.status).toBe(200);
  return ((await res.json()) as { open: { metric: string; feature: string | null; message: string }[] }).open;
}

describe('replay on real data: quiet inputs, matched outcomes', () => {
  let r: Replay;
  beforeAll(async () => {
    r = await runReplay();
  });
  afterAll(async () => r?.server.close());

  it('replays the test split: songs the default model did not train on', () => {
    expect(r.data.test.length).toBe(r.data.manifest.evaluation.songs);
  });

  it('raises no drift alert or warning of any kind on quiet inputs', async () => {
    const whole = await report(r, r.day(13), r.day(0));
    expect(whole.distinct).toBe(r.data.test.length);
    expect(whole.status, JSON.stringify(whole.features.map((f) => [f.name, f.status, f.decision?.reason]))).toBe('ok');
    for (const f of whole.features) expect(f.status, `${f.name}: ${f.decision?.reason}`).toBe('ok');
    expect(whole.outputs.status, whole.outputs.decision?.reason).toBe('ok');
    // Each song counts once: rows are many more than songs.
    expect(whole.rows).toBeGreaterThan(whole.distinct * 2);
    // The catalogue batch is another traffic kind: not in the default (interactive) window, shown on request.
    const batch = await report(r, r.day(13), r.day(0), '&kind=batch');
    expect(batch.distinct).toBeGreaterThan(10_000);
    // Output drift at real window sizes from ~140 to ~14,000 songs: quiet at each (the null follows n).
    expect(batch.outputs.status, batch.outputs.decision?.reason).toBe('ok');
    // Each week on its own (the alert window's size) is quiet too.
    for (const [from, to] of [
      [13, 7],
      [6, 0],
    ] as const) {
      const w = await report(r, r.day(from), r.day(to));
      expect(w.distinct).toBeGreaterThanOrEqual(100);
      expect(w.status, `${r.day(from)}…${r.day(to)}`).toBe('ok');
      expect(w.outputs.status).toBe('ok');
    }
    const open = await evaluate(r);
    expect(open, JSON.stringify(open)).toEqual([]);
  });

  it("the server's macro and pooled AUC and top-5 equal an offline computation within 0.005", async () => {
    const p = await perf(r, r.day(13), r.day(0));
    const byDate = new Map(p.points.map((x) => [x.period, x]));
    for (const date of [r.day(7), r.day(0)]) {
      const server = byDate.get(date);
      const offline = offlineMetrics(r, [date]);
      expect(server?.enough).toBe(true);
      expect(server?.unmatched).toBe(0);
      expect(server?.songs).toBe(offline.songs);
      expect(Math.abs((server?.macroAuc?.value ?? 0) - offline.macroAuc)).toBeLessThan(0.005);
      expect(Math.abs((server?.pooledAuc?.value ?? 0) - offline.pooledAuc)).toBeLessThan(0.005);
      expect(Math.abs((server?.top5Hit?.value ?? 0) - offline.top5Hit)).toBeLessThan(0.005);
      // Every number has its interval.
      expect(server?.macroAuc?.lo).toBeLessThanOrEqual(server?.macroAuc?.value ?? 0);
      expect(server?.macroAuc?.hi).toBeGreaterThanOrEqual(server?.macroAuc?.value ?? 1);
    }
    const all = offlineMetrics(r, [r.day(7), r.day(0)]);
    expect(Math.abs((p.total?.macroAuc?.value ?? 0) - all.macroAuc)).toBeLessThan(0.005);
    // Same songs as the manifest's test split, same definition: the figure is the manifest's, within noise.
    expect(Math.abs(all.macroAuc - r.data.manifest.evaluation.model.macroAuc)).toBeLessThan(0.02);
  });

  it('two songs with identical features keep their own outcomes', async () => {
    const [a, b] = r.twins;
    const chart = r.charts.get(r.day(7))!;
    expect(chart.songs.get(a)).not.toEqual(chart.songs.get(b));
    const p = await perf(r, r.day(7), r.day(7));
    // Both twins are matched (one row per fingerprint would have dropped the second one's outcomes).
    expect(p.points[0]?.unmatched).toBe(0);
    expect(p.points[0]?.songs).toBe(chart.songs.size);
    expect(p.points[0]?.matched).toBe(chart.songs.size * chart.countries.size);
  });

  it('re-predicting a song later does not change an earlier period', async () => {
    const before = (await perf(r, r.day(7), r.day(7))).points[0];
    // Forty songs of the first chart predicted again on day 3, after an edit (tempo + 20 BPM).
    const logs: PredictionLog[] = r.songsA.slice(0, 40).map((s) => {
      const x = s.x.map((v, i) => (FEATURE_NAMES[i] === 'tempo' ? Math.min(250, v + 20) : v));
      return {
        id: uuidv7(),
        deviceId: 'field-2',
        modelVersion: r.version,
        backend: 'simd',
        latencyMs: 0.1,
        createdAt: `${r.day(3)}T09:00:00.000Z`,
        inputs: fromVector(x),
        outputs: predict(r.data, x),
        source: 'form',
        songId: s.id,
      };
    });
    await r.send('field-2', logs);
    const after = (await perf(r, r.day(7), r.day(7))).points[0];
    expect(after?.macroAuc).toEqual(before?.macroAuc);
    expect(after?.pooledAuc).toEqual(before?.pooledAuc);
    expect(after?.top5Hit).toEqual(before?.top5Hit);
  });

  it('flags tempo × 1.3 on that feature and no other', async () => {
    // The test songs typed in again with tempo × 1.3, weeks earlier (their own window).
    const logs: PredictionLog[] = r.data.test.map((s, i) => {
      const x = s.x.map((v, f) => (FEATURE_NAMES[f] === 'tempo' ? Math.min(250, v * 1.3) : v));
      return {
        id: uuidv7(),
        deviceId: 'field-3',
        modelVersion: r.version,
        backend: 'simd',
        latencyMs: 0.1,
        createdAt: `${r.day(40 + (i % 3))}T10:00:00.000Z`,
        inputs: fromVector(x),
        outputs: predict(r.data, x),
        source: 'form',
      };
    });
    await r.send('field-3', logs);
    const rep = await report(r, r.day(42), r.day(40));
    expect(rep.distinct).toBe(r.data.test.length);
    const flagged = rep.features.filter((f) => f.status === 'warn' || f.status === 'alert');
    expect(flagged.map((f) => f.name)).toEqual(['tempo']);
    expect(flagged[0]?.decision?.reason).toMatch(/threshold/);
  });
});

describe('replay on real data: outcomes get worse while inputs stay quiet', () => {
  let r: Replay;
  beforeAll(async () => {
    r = await runReplay({ worsen: true, catalogueBatch: false });
  });
  afterAll(async () => r?.server.close());

  it('opens a performance alert that says inputs look like training', async () => {
    const open = await evaluate(r);
    expect(open.filter((a) => a.metric !== 'performance')).toEqual([]);
    const perfAlert = open.find((a) => a.metric === 'performance');
    expect(perfAlert, JSON.stringify(open)).toBeDefined();
    expect(perfAlert?.message).toMatch(/Inputs look like training/);
    expect(perfAlert?.message).toMatch(/accuracy fell from 0\.727/);
    const p = await perf(r, r.day(0), r.day(0));
    expect(p.points[0]?.macroAuc?.hi ?? 1).toBeLessThan(r.data.manifest.evaluation.model.macroAuc);
  });
});
