import { describe, expect, it } from 'vitest';
import type { PredictionLog, TrafficKind } from '../../model/contract/index.ts';
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

type Row = { rowid: number; match_key: string; kind: string; day: string; created_at: string; outputs: Buffer };

describe('prediction days (what outcome matching reads)', () => {
  it('hold, per song id and per fingerprint, day and kind, the latest stored log: later times win, older ones sent later do not, a tie goes to the later write', async () => {
    const s = await createTestServer();
    try {
      const version = await s.publish(await fixtureModel());
      const sqlite = s.deps.store.sqlite;
      if (!sqlite) throw new Error('SQLite expected');
      const songs = catalogueSongs().slice(0, 6);
      const r = rng(7);
      // Two ingest paths on one store, as two workers: neither's cache may hide the other's writes.
      const workers = [s.deps.logIngest, new LogIngest(s.deps.store, s.deps.registry)];
      const sent: PredictionLog[] = [];
      for (let b = 0; b < 40; b++) {
        const batch: PredictionLog[] = [];
        for (let i = 0; i < 12; i++) {
          const song = songs[Math.floor(r() * songs.length)] as (typeof songs)[number];
          // Few distinct times over two days, so ties and out-of-order arrivals happen.
          const t = Date.UTC(2026, 4, 1 + Math.floor(r() * 2), 23, 59, Math.floor(r() * 4));
          const log = makeLog(song, {
            deviceId: 'd1',
            modelVersion: version,
            createdAt: new Date(t).toISOString(),
          });
          // Different outputs for the same song and time (another backend's rounding).
          const outputs = log.outputs.map((p, c) => (c === 0 ? p * (0.9 + 0.1 * r()) : p));
          const traffic: TrafficKind = r() < 0.3 ? 'batch' : 'interactive';
          batch.push({ ...log, outputs, source: traffic === 'batch' ? 'batch' : 'catalogue' });
        }
        // A retried earlier batch now and then (duplicates change nothing).
        const retry = b > 3 && r() < 0.2 ? sent.slice(0, 12) : [];
        await (workers[b % 2] as LogIngest).ingest([...batch, ...retry], null);
        sent.push(...batch);
      }
      // The old reading, from every stored log in insertion order: the greatest created_at, a tie to the later row.
      const logs = sqlite
        .prepare(
          'SELECT rowid, song_id, fingerprint, source, traffic, day, created_at, outputs FROM logs ORDER BY rowid',
        )
        .all() as {
        rowid: number;
        song_id: string | null;
        fingerprint: string;
        source: string;
        traffic: string;
        day: string;
        created_at: string;
        outputs: Buffer;
      }[];
      expect(logs.length).toBe(sent.length);
      const expected = new Map<string, { created_at: string; outputs: number[] }>();
      for (const l of logs) {
        for (const key of [...(l.song_id ? [`s:${l.song_id}`] : []), `f:${l.fingerprint}`]) {
          const k = `${key}|${l.traffic}|${l.day}`;
          const e = expected.get(k);
          if (!e || l.created_at >= e.created_at)
            expected.set(k, { created_at: l.created_at, outputs: decodeVector(l.outputs) });
        }
      }
      const stored = sqlite
        .prepare('SELECT rowid, match_key, kind, day, created_at, outputs FROM prediction_days WHERE model_version = ?')
        .all(version) as Row[];
      const got = new Map(
        stored.map((x) => [
          `${x.match_key}|${x.kind}|${x.day}`,
          { created_at: x.created_at, outputs: decodeVector(x.outputs) },
        ]),
      );
      expect(got.size).toBe(expected.size);
      expect(Object.fromEntries(got)).toEqual(Object.fromEntries(expected));
    } finally {
      await s.close();
    }
  }, 30_000);
});
