/**
 * The fast drift report equals its definition: on random logs (songs with and without ids, repeats over
 * days, several devices with one dominant, several traffic kinds, batches ingested out of day order), the
 * report for each window and kind set is exactly what a straightforward recomputation from the logs table
 * gives. Definition: each song (id + fingerprint, or fingerprint) counts once per window if it was
 * predicted on a day of the window in a chosen kind; it is attributed to the device of its first log on its
 * earliest day (over the chosen kinds; a tie between kinds goes to the kind first in TRAFFIC_KINDS), binned
 * by the first log of that kind. SQLite always, PostgreSQL when TEST_DATABASE_URL is set.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type PredictionLog,
  type PredictionSource,
  TRAFFIC_KINDS,
  type TrafficKind,
  trafficOf,
} from '../../model/contract/index.ts';
import { addDistinct, addRow, emptyBucket } from '../../server/drift/bucket.ts';
import { type DriftReport, driftReport } from '../../server/drift/report.ts';
import { sampleOf, songBins, songKey, type WindowSong } from '../../server/drift/window-songs.ts';
import { decodeVector } from '../../server/store/vectors.ts';
import { catalogueSongs, fixtureModel, makeLog, rng } from '../../server/testing/fixtures.ts';
import { createTestServer, type TestServer } from '../../server/testing/harness.ts';

const PG = process.env.TEST_DATABASE_URL;
const dialects = [
  { name: 'sqlite', url: undefined as string | undefined, skip: false },
  { name: 'postgres', url: PG, skip: !PG },
];

const day = (i: number) => `2026-05-${String(i).padStart(2, '0')}`;

function randomLogs(version: string, seed: number): PredictionLog[] {
  const r = rng(seed);
  const songs = catalogueSongs().slice(0, 500);
  const logs: PredictionLog[] = [];
  for (let i = 0; i < 4000; i++) {
    // A quarter of the songs log without an id (counted by their features); a few tens are shifted
    // (new inputs for the same id). Device 0 brings far more than half of the logs.
    const song = songs[Math.floor(r() ** 1.5 * songs.length)] as (typeof songs)[number];
    const device = r() < 0.6 ? 'dev-0' : `dev-${1 + Math.floor(r() * 5)}`;
    const d = 1 + Math.floor(r() * 20);
    const log = makeLog(r() < 0.25 ? song.features : song, {
      deviceId: device,
      modelVersion: version,
      createdAt: `${day(d)}T${String(Math.floor(r() * 24)).padStart(2, '0')}:00:00Z`,
      danceShift: r() < 0.05 ? 0.2 : 0,
    });
    const k = r();
    if (k < 0.2) logs.push({ ...log, traffic: 'batch', source: 'batch' });
    else if (k < 0.3) logs.push({ ...log, traffic: 'test' });
    else if (k < 0.35)
      logs.push({ ...log, source: 'batch' }); // no field: derived (batch)
    else logs.push(log);
  }
  return logs;
}

/** The definition, from the stored logs alone. */
async function recompute(s: TestServer, version: string, w: { from: string; to: string }, kinds: TrafficKind[]) {
  const ref = (await s.deps.registry.reference(version)) as NonNullable<
    Awaited<ReturnType<typeof s.deps.registry.reference>>
  >;
  const rows = await s.deps.store.db
    .selectFrom('logs')
    .select(['id', 'day', 'fingerprint', 'song_id', 'device_id', 'inputs', 'outputs', 'source', 'traffic'])
    .where('model_version', '=', version)
    .execute();
  // Ingest order: the test ingests in batches whose ids it records (see below), so sort by that order.
  rows.sort((a, b) => (order.get(a.id) as number) - (order.get(b.id) as number));
  // Per (kind, song): its earliest day, the device of its first log that day, its first log's bins, its days.
  const perKind = new Map<
    string,
    { kind: TrafficKind; key: string; first: string; device: string; bins: number[]; days: Set<string> }
  >();
  const raw = emptyBucket(ref);
  const seenDay = new Set<string>();
  for (const row of rows) {
    const kind = (row.traffic as TrafficKind | null) ?? trafficOf({ source: row.source as PredictionSource });
    const key = songKey(row.song_id, row.fingerprint);
    const inputs = decodeVector(row.inputs);
    const outputs = decodeVector(row.outputs);
    if (row.day >= w.from && row.day <= w.to) {
      addRow(raw, ref, inputs);
      if (!seenDay.has(`${row.day}|${row.fingerprint}`)) {
        seenDay.add(`${row.day}|${row.fingerprint}`);
        addDistinct(raw, ref, inputs, outputs);
      }
    }
    const e = perKind.get(`${kind}|${key}`);
    if (!e) {
      perKind.set(`${kind}|${key}`, {
        kind,
        key,
        first: row.day,
        device: row.device_id,
        bins: JSON.parse(songBins(ref, inputs, outputs)) as number[],
        days: new Set([row.day]),
      });
    } else {
      e.days.add(row.day);
      if (row.day < e.first) {
        e.first = row.day;
        e.device = row.device_id;
      }
    }
  }
  const chosen = new Map<string, { first: string; rank: number; song: WindowSong }>();
  for (const e of perKind.values()) {
    if (!kinds.includes(e.kind)) continue;
    const days = [...e.days].filter((d) => d >= w.from && d <= w.to);
    if (days.length === 0) continue;
    const rank = TRAFFIC_KINDS.indexOf(e.kind);
    const c = chosen.get(e.key);
    if (!c || e.first < c.first || (e.first === c.first && rank < c.rank)) {
      chosen.set(e.key, { first: e.first, rank, song: { key: e.key, device: e.device, days, bins: e.bins } });
    }
  }
  const t = s.deps.config.thresholds;
  return driftReport(
    ref,
    sampleOf(
      ref,
      [...chosen.values()].map((c) => c.song),
      t.maxDeviceShare,
    ),
    raw,
    t,
  );
}

/** What is counted from the songs, exactly; raw rows exactly; the mean probabilities within rounding. */
function expectSame(report: DriftReport & { version?: string }, slow: DriftReport): void {
  const { version: _v, window: _w, days: _d, kinds: _k, ...fast } = report as DriftReport & Record<string, unknown>;
  const strip = (r: DriftReport) => ({
    ...r,
    features: r.features.map(({ observedRaw: _, ...f }) => f),
    outputs: { ...r.outputs, meanProbabilityObserved: [], maxMeanShift: null },
  });
  expect(strip(fast)).toEqual(strip(slow));
  fast.features.forEach((f, i) => {
    expect(f.observedRaw).toEqual(slow.features[i]?.observedRaw);
  });
  fast.outputs.meanProbabilityObserved.forEach((m, i) => {
    expect(m).toBeCloseTo(slow.outputs.meanProbabilityObserved[i] as number, 12);
  });
}

const order = new Map<string, number>();

for (const d of dialects) {
  describe.skipIf(d.skip)(`drift report equals its definition on ${d.name}`, () => {
    let s: TestServer;
    let v: string;
    beforeAll(async () => {
      s = await createTestServer({
        ...(d.url ? { postgresUrl: d.url } : {}),
        config: {
          thresholds: { ...(await import('../../server/config.ts')).ThresholdsSchema.parse({}), minDistinct: 20 },
        },
      });
      v = await s.publish(await fixtureModel({ salt: 'exact' }));
      const logs = randomLogs(v, 7);
      // Batches out of day order: a later batch often brings an earlier day of a known song.
      const r = rng(11);
      const shuffled = logs
        .map((l) => ({ l, k: r() }))
        .sort((a, b) => a.k - b.k)
        .map((x) => x.l);
      for (let i = 0; i < shuffled.length; i += 250) {
        const batch = shuffled.slice(i, i + 250);
        for (const l of batch) order.set(l.id, order.size);
        await s.deps.logIngest.ingest(batch, null);
      }
    }, 120_000);
    afterAll(async () => s?.close());

    const windows = [
      { from: day(1), to: day(20) },
      { from: day(8), to: day(8) },
      { from: day(5), to: day(11) },
      { from: day(15), to: day(30) },
      { from: day(21), to: day(25) },
      { from: day(12), to: day(13) },
    ];
    const kindSets: TrafficKind[][] = [['interactive'], ['batch'], ['interactive', 'batch'], [...TRAFFIC_KINDS]];
    for (const w of windows) {
      for (const kinds of kindSets) {
        it(`${w.from}…${w.to}, ${kinds.join('+')}`, async () => {
          const fast = await s.deps.drift.report(v, w, kinds);
          const slow = await recompute(s, v, w, kinds);
          expectSame(fast, slow);
        });
      }
    }

    it('has songs that span a window without a day in it, a weighted device and songs in several kinds', async () => {
      const w = { from: day(5), to: day(11) };
      const inKinds = await s.deps.store.db
        .selectFrom('drift_songs')
        .select(['song_key', 'first_day', 'last_day', 'days'])
        .where('model_version', '=', v)
        .execute();
      const spanning = inKinds.filter(
        (r) =>
          r.first_day < w.from &&
          r.last_day > w.to &&
          !r.days.split(',').some((x) => x !== '' && x >= w.from && x <= w.to),
      );
      expect(spanning.length).toBeGreaterThan(0);
      const keys = inKinds.map((r) => r.song_key);
      expect(new Set(keys).size).toBeLessThan(keys.length);
      const rep = await s.deps.drift.report(v, { from: day(1), to: day(20) }, [...TRAFFIC_KINDS]);
      expect(rep.deviceWeights['dev-0']).toBeLessThan(1);
    });
  });
}
