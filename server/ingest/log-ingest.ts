/**
 * The ingest hot path for prediction logs. One transaction per batch:
 * `INSERT … ON CONFLICT DO NOTHING` for the logs (so a retry stores nothing
 * twice and the answer says which ids were new: cached prepared statements on
 * SQLite, multi-row inserts with RETURNING on PostgreSQL), then
 * for the new logs the per-day distinct fingerprints, the drift bucket
 * deltas computed in memory and merged into each (version, day) row once,
 * the (version, traffic kind, song) rows that drift windows count songs by
 * (`drift/window-songs.ts`), and the device's last-seen. Every log row is
 * kept: performance matches outcomes to them (`drift/performance.ts`).
 */

import type SQLite from 'better-sqlite3';
import type { Transaction } from 'kysely';
import {
  featureFingerprint,
  type LogBatchResponse,
  type PredictionLog,
  type ReferenceProfile,
  type TrafficKind,
  toVector,
  trafficOf,
} from '../../model/contract/index.ts';
import { DomainError } from '../domain-error.ts';
import { addDistinct, addRow, type DriftBucket, emptyBucket, mergeInto } from '../drift/bucket.ts';
import { addShadow, emptyShadow, mergeShadow, type ShadowStats } from '../drift/shadow.ts';
import { type DriftSongDelta, songBins, songKey, upsertDriftSongs } from '../drift/window-songs.ts';
import type { Registry } from '../registry/registry.ts';
import type { Database } from '../store/schema.ts';
import type { Store } from '../store/store.ts';
import { encodeVector } from '../store/vectors.ts';
import { reusedLogIds } from './log-conflicts.ts';

/** UTC day (YYYY-MM-DD) of an ISO date-time with any offset: the drift bucket of a log. */
export function utcDay(isoDateTime: string): string {
  // Already UTC ("…Z"): the day is the prefix; an offset needs the real conversion.
  if (isoDateTime.endsWith('Z')) return isoDateTime.slice(0, 10);
  return new Date(isoDateTime).toISOString().slice(0, 10);
}

interface Prepared {
  log: PredictionLog;
  day: string;
  fingerprint: string;
  inputs: number[];
  traffic: TrafficKind;
}

interface Delta {
  version: string;
  day: string;
  b: DriftBucket;
  ref: ReferenceProfile;
}

interface ShadowDelta {
  version: string;
  shadow: string;
  day: string;
  s: ShadowStats;
}

type Tx = Transaction<Database>;

/** The few writes of the hot path, per store: SQLite with cached prepared statements, PostgreSQL with multi-row Kysely inserts. */
interface BatchWriter {
  /** Returns the ids that were new. */
  insertLogs(tx: Tx, rows: readonly Prepared[], receivedAt: string): Promise<string[]>;
  /** Returns the "version|day|fingerprint" keys that were new. */
  insertDayFingerprints(tx: Tx, rows: readonly Prepared[]): Promise<Set<string>>;
  upsertDriftSongs(tx: Tx, rows: readonly DriftSongDelta[]): Promise<void>;
  mergeBucket(tx: Tx, d: Delta, now: string): Promise<void>;
  mergeShadow(tx: Tx, d: ShadowDelta, now: string): Promise<void>;
  touchDevice(tx: Tx, id: string, count: number, version: string, now: string, lastEvent: string): Promise<void>;
}

function logRow(p: Prepared, receivedAt: string) {
  return {
    id: p.log.id,
    device_id: p.log.deviceId,
    model_version: p.log.modelVersion,
    backend: p.log.backend,
    latency_ms: p.log.latencyMs,
    created_at: p.log.createdAt,
    day: p.day,
    received_at: receivedAt,
    source: p.log.source,
    song_id: p.log.songId ?? null,
    fingerprint: p.fingerprint,
    inputs: encodeVector(p.inputs),
    outputs: encodeVector(p.log.outputs),
    shadow: p.log.shadow ? JSON.stringify(p.log.shadow) : null,
    traffic: p.traffic,
  };
}

const sqliteStatements = new WeakMap<SQLite.Database, ReturnType<typeof prepareSqlite>>();
function prepareSqlite(db: SQLite.Database) {
  return {
    log: db.prepare(
      `INSERT INTO logs (id, device_id, model_version, backend, latency_ms, created_at, day, received_at, source, song_id, fingerprint, inputs, outputs, shadow, traffic)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO NOTHING`,
    ),
    fingerprint: db.prepare(
      'INSERT INTO day_fingerprints (model_version, day, fingerprint) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    // A song already known for this (version, kind) gains the day if it is new; the device of its earliest
    // day (by event time) is the one it is attributed to; its bins stay those of its first prediction.
    driftSong: db.prepare(
      `INSERT INTO drift_songs (model_version, kind, song_key, device_id, first_day, last_day, days, bins) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (model_version, kind, song_key) DO UPDATE SET
         device_id = CASE WHEN excluded.first_day < drift_songs.first_day THEN excluded.device_id ELSE drift_songs.device_id END,
         days = CASE WHEN instr(drift_songs.days, excluded.days) > 0 THEN drift_songs.days ELSE drift_songs.days || substr(excluded.days, 2) END,
         first_day = min(drift_songs.first_day, excluded.first_day),
         last_day = max(drift_songs.last_day, excluded.last_day)`,
    ),
    bucketGet: db.prepare('SELECT stats FROM drift_buckets WHERE model_version = ? AND day = ?'),
    bucketPut: db.prepare(
      'INSERT INTO drift_buckets (model_version, day, stats, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (model_version, day) DO UPDATE SET stats = excluded.stats, updated_at = excluded.updated_at',
    ),
    shadowGet: db.prepare(
      'SELECT stats FROM shadow_buckets WHERE model_version = ? AND shadow_version = ? AND day = ?',
    ),
    shadowPut: db.prepare(
      'INSERT INTO shadow_buckets (model_version, shadow_version, day, stats, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (model_version, shadow_version, day) DO UPDATE SET stats = excluded.stats, updated_at = excluded.updated_at',
    ),
    device: db.prepare(
      'UPDATE devices SET last_seen_at = ?, last_version = ?, logs_total = logs_total + ?, last_event_at = CASE WHEN last_event_at IS NULL OR last_event_at < ? THEN ? ELSE last_event_at END WHERE id = ?',
    ),
  };
}

/** SQLite: synchronous cached statements on the connection the Kysely transaction holds (no re-prepare per batch). */
function sqliteWriter(db: SQLite.Database): BatchWriter {
  let st = sqliteStatements.get(db);
  if (!st) {
    st = prepareSqlite(db);
    sqliteStatements.set(db, st);
  }
  const s = st;
  return {
    async insertLogs(_tx, rows, receivedAt) {
      const out: string[] = [];
      for (const p of rows) {
        const l = p.log;
        const r = s.log.run(
          l.id,
          l.deviceId,
          l.modelVersion,
          l.backend,
          l.latencyMs,
          l.createdAt,
          p.day,
          receivedAt,
          l.source,
          l.songId ?? null,
          p.fingerprint,
          encodeVector(p.inputs),
          encodeVector(l.outputs),
          l.shadow ? JSON.stringify(l.shadow) : null,
          p.traffic,
        );
        if (r.changes === 1) out.push(l.id);
      }
      return out;
    },
    async insertDayFingerprints(_tx, rows) {
      const out = new Set<string>();
      for (const p of rows) {
        if (s.fingerprint.run(p.log.modelVersion, p.day, p.fingerprint).changes === 1) {
          out.add(`${p.log.modelVersion}|${p.day}|${p.fingerprint}`);
        }
      }
      return out;
    },
    async upsertDriftSongs(_tx, rows) {
      for (const d of rows) s.driftSong.run(d.version, d.kind, d.key, d.device, d.day, d.day, `,${d.day},`, d.bins);
    },
    async mergeBucket(_tx, d, now) {
      const row = s.bucketGet.get(d.version, d.day) as { stats: string } | undefined;
      const merged = row ? mergeInto(JSON.parse(row.stats) as DriftBucket, d.b) : d.b;
      s.bucketPut.run(d.version, d.day, JSON.stringify(merged), now);
    },
    async mergeShadow(_tx, d, now) {
      const row = s.shadowGet.get(d.version, d.shadow, d.day) as { stats: string } | undefined;
      const merged = row ? mergeShadow(JSON.parse(row.stats) as ShadowStats, d.s) : d.s;
      s.shadowPut.run(d.version, d.shadow, d.day, JSON.stringify(merged), now);
    },
    async touchDevice(_tx, id, count, version, now, lastEvent) {
      s.device.run(now, version, count, lastEvent, lastEvent, id);
    },
  };
}

/** PostgreSQL (and any Kysely dialect): multi-row inserts with RETURNING, bucket rows locked while merged. */
function kyselyWriter(isPg: boolean): BatchWriter {
  return {
    async insertLogs(tx, rows, receivedAt) {
      const out: string[] = [];
      for (const part of chunks(rows)) {
        const r = await tx
          .insertInto('logs')
          .values(part.map((p) => logRow(p, receivedAt)))
          .onConflict((oc) => oc.column('id').doNothing())
          .returning('id')
          .execute();
        for (const x of r) out.push(x.id);
      }
      return out;
    },
    async insertDayFingerprints(tx, rows) {
      const out = new Set<string>();
      for (const part of chunks(rows, 2000)) {
        const r = await tx
          .insertInto('day_fingerprints')
          .values(part.map((p) => ({ model_version: p.log.modelVersion, day: p.day, fingerprint: p.fingerprint })))
          .onConflict((oc) => oc.columns(['model_version', 'day', 'fingerprint']).doNothing())
          .returning(['model_version', 'day', 'fingerprint'])
          .execute();
        for (const x of r) out.add(`${x.model_version}|${x.day}|${x.fingerprint}`);
      }
      return out;
    },
    async upsertDriftSongs(tx, rows) {
      await upsertDriftSongs(tx, rows, isPg ? 'postgres' : 'sqlite');
    },
    async mergeBucket(tx, d, now) {
      // Make sure the row exists, then lock it so concurrent instances merge in turn.
      await tx
        .insertInto('drift_buckets')
        .values({ model_version: d.version, day: d.day, stats: JSON.stringify(emptyBucket(d.ref)), updated_at: now })
        .onConflict((oc) => oc.columns(['model_version', 'day']).doNothing())
        .execute();
      let q = tx
        .selectFrom('drift_buckets')
        .select('stats')
        .where('model_version', '=', d.version)
        .where('day', '=', d.day);
      if (isPg) q = q.forUpdate();
      const row = await q.executeTakeFirstOrThrow();
      const merged = mergeInto(JSON.parse(row.stats) as DriftBucket, d.b);
      await tx
        .updateTable('drift_buckets')
        .set({ stats: JSON.stringify(merged), updated_at: now })
        .where('model_version', '=', d.version)
        .where('day', '=', d.day)
        .execute();
    },
    async mergeShadow(tx, d, now) {
      await tx
        .insertInto('shadow_buckets')
        .values({
          model_version: d.version,
          shadow_version: d.shadow,
          day: d.day,
          stats: JSON.stringify(emptyShadow()),
          updated_at: now,
        })
        .onConflict((oc) => oc.columns(['model_version', 'shadow_version', 'day']).doNothing())
        .execute();
      let q = tx
        .selectFrom('shadow_buckets')
        .select('stats')
        .where('model_version', '=', d.version)
        .where('shadow_version', '=', d.shadow)
        .where('day', '=', d.day);
      if (isPg) q = q.forUpdate();
      const row = await q.executeTakeFirstOrThrow();
      await tx
        .updateTable('shadow_buckets')
        .set({ stats: JSON.stringify(mergeShadow(JSON.parse(row.stats) as ShadowStats, d.s)), updated_at: now })
        .where('model_version', '=', d.version)
        .where('shadow_version', '=', d.shadow)
        .where('day', '=', d.day)
        .execute();
    },
    async touchDevice(tx, id, count, version, now, lastEvent) {
      await tx
        .updateTable('devices')
        .set((eb) => ({
          last_seen_at: now,
          last_version: version,
          logs_total: eb('logs_total', '+', count),
          last_event_at: eb
            .case()
            .when(eb.or([eb('last_event_at', 'is', null), eb('last_event_at', '<', lastEvent)]))
            .then(lastEvent)
            .else(eb.ref('last_event_at'))
            .end(),
        }))
        .where('id', '=', id)
        .execute();
    },
  };
}

/** A retried id must carry the same content; otherwise the whole batch is refused (409 `id-reused`). */
async function refuseReusedIds(
  tx: Tx,
  prepared: readonly Prepared[],
  inserted: ReadonlySet<string>,
  logs: readonly PredictionLog[],
): Promise<void> {
  const index = new Map(logs.map((l, i) => [l.id, i]));
  const retried = prepared
    .filter((p) => !inserted.has(p.log.id))
    .map((p) => ({ log: p.log, inputs: p.inputs, index: index.get(p.log.id) ?? 0 }));
  const items = await reusedLogIds(tx, retried);
  if (items.length > 0) throw new DomainError('id-reused', { items });
}

const CHUNK = 500;

function chunks<T>(xs: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/** Bound on the "already stored" fingerprint cache; cleared when full (it only saves work, never decides). */
const KNOWN_KEYS_MAX = 500_000;

export class LogIngest {
  /**
   * (version, day, fingerprint) keys this process has seen committed. Rows are
   * never deleted, so a key here is certainly not new and its insert can be
   * skipped; a key missing here (e.g. stored by another worker) goes to the
   * store, which decides.
   */
  private readonly knownKeys = new Set<string>();
  /** (version, kind, song key, day) this process has seen committed to drift_songs (same rule as knownKeys). */
  private readonly knownSongDays = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly registry: Registry,
  ) {}

  /**
   * Stores a validated batch atomically. `deviceId` is the caller's device
   * (null for an admin, who may send logs for any device).
   */
  async ingest(logs: readonly PredictionLog[], deviceId: string | null): Promise<LogBatchResponse> {
    if (deviceId !== null) {
      const foreign = logs.flatMap((l, index) =>
        l.deviceId === deviceId ? [] : [{ index, id: l.id, deviceId: l.deviceId }],
      );
      if (foreign.length > 0) throw new DomainError('forbidden', { problem: 'logs of another device', items: foreign });
    }
    const refs = new Map<string, ReferenceProfile>();
    const unknown: { index: number; id: string; code: string; message: string }[] = [];
    for (let i = 0; i < logs.length; i++) {
      const v = (logs[i] as PredictionLog).modelVersion;
      if (refs.has(v)) continue;
      const ref = await this.registry.reference(v);
      if (ref) refs.set(v, ref);
    }
    logs.forEach((l, index) => {
      if (!refs.has(l.modelVersion)) {
        unknown.push({
          index,
          id: l.id,
          code: 'unknown-model-version',
          message: `model version ${l.modelVersion} is not in the registry`,
        });
      }
    });
    if (unknown.length > 0) throw new DomainError('unknown-model-version', { items: unknown });

    // A repeated id inside one batch is stored once (first occurrence wins).
    const seen = new Set<string>();
    const prepared: Prepared[] = [];
    for (const log of logs) {
      if (seen.has(log.id)) continue;
      seen.add(log.id);
      prepared.push({
        log,
        day: utcDay(log.createdAt),
        fingerprint: featureFingerprint(log.inputs),
        inputs: toVector(log.inputs),
        traffic: trafficOf(log),
      });
    }
    // Sorted keys keep concurrent PostgreSQL transactions from deadlocking on each other's rows.
    prepared.sort((a, b) => (a.log.id < b.log.id ? -1 : 1));
    const receivedAt = new Date().toISOString();
    const isPg = this.store.dialect === 'postgres';

    const inserted = new Set<string>();
    let committedKeys: string[] = [];
    let committedSongDays: string[] = [];
    const writer = this.store.sqlite ? sqliteWriter(this.store.sqlite) : kyselyWriter(isPg);
    await this.store.db.transaction().execute(async (tx) => {
      for (const id of await writer.insertLogs(tx, prepared, receivedAt)) inserted.add(id);
      if (inserted.size < prepared.length) await refuseReusedIds(tx, prepared, inserted, logs);
      if (inserted.size === 0) return;
      const fresh = prepared.filter((p) => inserted.has(p.log.id));

      // First log of each (version, day, fingerprint) in this batch; the store says which are new for the day.
      const firstOfKey = new Map<string, Prepared>();
      for (const p of fresh) {
        const k = `${p.log.modelVersion}|${p.day}|${p.fingerprint}`;
        if (!firstOfKey.has(k)) firstOfKey.set(k, p);
      }
      const keys = [...firstOfKey.keys()].sort();
      const unknownKeys = keys.filter((k) => !this.knownKeys.has(k));
      const newKeys = await writer.insertDayFingerprints(
        tx,
        unknownKeys.map((k) => firstOfKey.get(k) as Prepared),
      );
      committedKeys = unknownKeys;

      // Bucket deltas in memory: one merge per (version, day) touched.
      const deltas = new Map<string, Delta>();
      const delta = (version: string, day: string) => {
        const k = `${version}|${day}`;
        let d = deltas.get(k);
        if (!d) {
          const ref = refs.get(version) as ReferenceProfile;
          d = { version, day, b: emptyBucket(ref), ref };
          deltas.set(k, d);
        }
        return d;
      };
      for (const p of fresh) {
        const d = delta(p.log.modelVersion, p.day);
        addRow(d.b, d.ref, p.inputs);
      }
      for (const k of keys) {
        if (!newKeys.has(k)) continue;
        const p = firstOfKey.get(k) as Prepared;
        const d = delta(p.log.modelVersion, p.day);
        addDistinct(d.b, d.ref, p.inputs, p.log.outputs);
      }
      // Drift counts songs per window: one row per (version, kind, song) gains each new day.
      const songDays = new Map<string, DriftSongDelta>();
      for (const p of fresh) {
        const key = songKey(p.log.songId, p.fingerprint);
        const k = `${p.log.modelVersion}|${p.traffic}|${key}|${p.day}`;
        if (songDays.has(k) || this.knownSongDays.has(k)) continue;
        const ref = refs.get(p.log.modelVersion) as ReferenceProfile;
        songDays.set(k, {
          version: p.log.modelVersion,
          kind: p.traffic,
          key,
          device: p.log.deviceId,
          day: p.day,
          bins: songBins(ref, p.inputs, p.log.outputs),
        });
      }
      const songDayKeys = [...songDays.keys()].sort();
      await writer.upsertDriftSongs(
        tx,
        songDayKeys.map((k) => songDays.get(k) as DriftSongDelta),
      );
      committedSongDays = songDayKeys;
      const now = new Date().toISOString();
      for (const k of [...deltas.keys()].sort()) await writer.mergeBucket(tx, deltas.get(k) as Delta, now);
      // Shadow comparison for logs that carry a candidate's result.
      const shadows = new Map<string, ShadowDelta>();
      for (const p of fresh) {
        const sh = p.log.shadow;
        if (!sh) continue;
        const k = `${p.log.modelVersion}|${sh.modelVersion}|${p.day}`;
        let d = shadows.get(k);
        if (!d) {
          d = { version: p.log.modelVersion, shadow: sh.modelVersion, day: p.day, s: emptyShadow() };
          shadows.set(k, d);
        }
        addShadow(d.s, p.log.outputs, sh.outputs, sh.latencyMs);
      }
      for (const k of [...shadows.keys()].sort()) await writer.mergeShadow(tx, shadows.get(k) as ShadowDelta, now);
      // Last seen and last version per device in this batch.
      // Last event is compared as UTC ISO text, so offsets are normalised first.
      const perDevice = new Map<string, { count: number; version: string; lastEvent: string }>();
      for (const p of fresh) {
        const at = p.log.createdAt.endsWith('Z') ? p.log.createdAt : new Date(p.log.createdAt).toISOString();
        const e = perDevice.get(p.log.deviceId) ?? { count: 0, version: p.log.modelVersion, lastEvent: at };
        e.count++;
        if (at >= e.lastEvent) {
          e.lastEvent = at;
          e.version = p.log.modelVersion;
        }
        perDevice.set(p.log.deviceId, e);
      }
      for (const [id, e] of [...perDevice].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
        await writer.touchDevice(tx, id, e.count, e.version, now, e.lastEvent);
      }
    });
    // Only after the commit: a rolled-back key must not be remembered as stored.
    if (this.knownKeys.size + committedKeys.length > KNOWN_KEYS_MAX) this.knownKeys.clear();
    for (const k of committedKeys) this.knownKeys.add(k);
    if (this.knownSongDays.size + committedSongDays.length > KNOWN_KEYS_MAX) this.knownSongDays.clear();
    for (const k of committedSongDays) this.knownSongDays.add(k);
    const stored = prepared.map((p) => p.log.id);
    return { stored, duplicates: stored.filter((id) => !inserted.has(id)) };
  }
}
