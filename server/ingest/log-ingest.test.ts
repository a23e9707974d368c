import { describe, expect, it } from 'vitest';
import { featureFingerprint, type PredictionLog, type TrafficKind } from '../../model/contract/index.ts';
import { decodeVector } from '../store/vectors.ts';
import { catalogueSongs, fixtureModel, makeLog, rng } from '../testing/fixtures.ts';
import { createTestServer } from '../testing/harness.ts';
import { LogIngest, utcDay } from './log-ingest.ts';

describe('utcDay', () => {
  it('takes the UTC day of the device clock, converting offsets', () => {
    expect(utcDay('2026-01-02T23:30:00Z')).toBe('2026-01-02');
    expect(utcDay('2026-01-02T23:30:00.123456Z')).toBe('2026-01-02');
    expect(utcDay('2026-01-02T23:30:00-05:00')).toBe('2026-01-03');
    expect(utcDay('2026-01-03T01:00:00+02:00')).toBe('2026-01-02');
  });
});

const stores = [
  { name: 'SQLite', postgresUrl: undefined as string | undefined },
  ...(process.env.TEST_DATABASE_URL ? [{ name: 'PostgreSQL', postgresUrl: process.env.TEST_DATABASE_URL }] : []),
];

describe.each(stores)('prediction days (what outcome matching reads), $name', ({ postgresUrl }) => {
  it('hold, per song id and per fingerprint, day and kind, the latest stored log: later times win, older ones sent later do not, a tie goes to the later write', async () => {
    const s = await createTestServer(postgresUrl ? { postgresUrl } : {});
    try {
      const version = await s.publish(await fixtureModel());
      const songs = catalogueSongs().slice(0, 6);
      const r = rng(7);
      // Two ingest paths on one store, as two workers: neither's cache may hide the other's writes.
      const workers = [s.deps.logIngest, new LogIngest(s.deps.store, s.deps.registry)];
      // The logs in the order the store took them: each batch's new ids, in id order.
      const stored: PredictionLog[] = [];
      const storedIds = new Set<string>();
      for (let b = 0; b < 40; b++) {
        const batch: PredictionLog[] = [];
        for (let i = 0; i < 12; i++) {
          const song = songs[Math.floor(r() * songs.length)] as (typeof songs)[number];
          // Few distinct times over two days, so ties and out-of-order arrivals happen.
          const t = Date.UTC(2026, 4, 1 + Math.floor(r() * 2), 23, 59, Math.floor(r() * 4));
          const log = makeLog(song, { deviceId: 'd1', modelVersion: version, createdAt: new Date(t).toISOString() });
          // Different outputs for the same song and time (another backend's rounding).
          const outputs = log.outputs.map((p, c) => (c === 0 ? p * (0.9 + 0.1 * r()) : p));
          batch.push({ ...log, outputs, source: r() < 0.3 ? 'batch' : 'catalogue' });
        }
        // A retried earlier batch now and then (duplicates change nothing).
        const retry = b > 3 && r() < 0.2 ? stored.slice(0, 12) : [];
        const res = await (workers[b % 2] as LogIngest).ingest([...batch, ...retry], null);
        expect(res.duplicates.length).toBe(retry.length);
        for (const l of [...batch].sort((x, y) => (x.id < y.id ? -1 : 1))) {
          if (!storedIds.has(l.id)) stored.push(l);
          storedIds.add(l.id);
        }
      }
      // What matching read before (every log of the song or fingerprint): the greatest created_at, a tie to the
      // later stored log.
      const expected = new Map<string, { createdAt: string; outputs: number[] }>();
      for (const l of stored) {
        const kind: TrafficKind = l.source === 'batch' ? 'batch' : 'interactive';
        const fp = featureFingerprint(l.inputs);
        for (const key of [...(l.songId ? [`s:${l.songId}`] : []), `f:${fp}`]) {
          const k = `${key}|${kind}|${utcDay(l.createdAt)}`;
          const e = expected.get(k);
          if (!e || l.createdAt >= e.createdAt) expected.set(k, { createdAt: l.createdAt, outputs: l.outputs });
        }
      }
      const rows = await s.deps.store.db
        .selectFrom('prediction_days as d')
        .innerJoin('logs', 'logs.id', 'd.log_id')
        .select(['d.match_key', 'd.kind', 'd.day', 'd.created_at', 'logs.outputs'])
        .where('d.model_version', '=', version)
        .execute();
      const got = new Map(
        rows.map((x) => [
          `${x.match_key}|${x.kind}|${x.day}`,
          { createdAt: x.created_at, outputs: decodeVector(x.outputs) },
        ]),
      );
      expect(got.size).toBe(expected.size);
      expect(Object.fromEntries(got)).toEqual(Object.fromEntries(expected));
    } finally {
      await s.close();
    }
  }, 60_000);
});
