/**
 * The SQL of the prediction-log ingest hot path, per store: SQLite through cached prepared statements on the
 * connection the Kysely transaction holds (no query builder and no re-prepare per row), PostgreSQL (and any
 * other Kysely dialect) through multi-row inserts with RETURNING, with the rows it merges locked. What to
 * write — dedupe, drift deltas, shadow stats, the device's last-seen — is decided by `ingest/log-ingest.ts`;
 * this module only writes it. Every method runs inside the caller's transaction.
 */
import type SQLite from 'better-sqlite3';
import { sql, type Transaction } from 'kysely';
import type { PredictionLog, TrafficKind } from '../../model/contract/index.ts';
import type { Database } from './schema.ts';
import type { Dialect, Store } from './store.ts';
import { encodeVector } from './vectors.ts';

export type Tx = Transaction<Database>;

/** One validated log ready to store. */
export interface LogInsert {
  log: PredictionLog;
  /** UTC day of createdAt. */
  day: string;
  fingerprint: string;
  /** Inputs in feature order. */
  inputs: number[];
  traffic: TrafficKind;
}

/** A (version, kind, song) row of `drift_songs` gaining a day (see drift/window-songs.ts). */
export interface DriftSongDelta {
  version: string;
  kind: TrafficKind;
  key: string;
  device: string;
  day: string;
  bins: string;
}

/** The latest prediction of a day for a match key (`prediction_days`, read by drift/performance.ts). */
export interface PredictionDay {
  version: string;
  kind: TrafficKind;
  /** `s:<song id>` or `f:<fingerprint>`. */
  key: string;
  day: string;
  createdAt: string;
  /** The log that made the prediction (its outputs are read from `logs`). */
  logId: string;
}

/** Merges a batch's delta into a stored statistics row (JSON text): `stored` is `empty` when there was none. */
export type MergeStats = (stored: string) => string;

export interface LogWriter {
  /** `INSERT … ON CONFLICT DO NOTHING`; returns the ids that were new. */
  insertLogs(tx: Tx, rows: readonly LogInsert[], receivedAt: string): Promise<string[]>;
  /** Returns the "version|day|fingerprint" keys that were new. */
  insertDayFingerprints(tx: Tx, rows: readonly LogInsert[]): Promise<Set<string>>;
  upsertDriftSongs(tx: Tx, rows: readonly DriftSongDelta[]): Promise<void>;
  /** Keeps, per key, the later prediction: a greater createdAt, or an equal one written later. */
  upsertPredictionDays(tx: Tx, rows: readonly PredictionDay[]): Promise<void>;
  mergeBucket(tx: Tx, version: string, day: string, empty: string, merge: MergeStats, now: string): Promise<void>;
  mergeShadow(
    tx: Tx,
    version: string,
    shadow: string,
    day: string,
    empty: string,
    merge: MergeStats,
    now: string,
  ): Promise<void>;
  touchDevice(tx: Tx, id: string, count: number, version: string, now: string, lastEvent: string): Promise<void>;
}

/** The writer for a store: cached statements on SQLite, Kysely elsewhere. */
export function logWriter(store: Store): LogWriter {
  return store.sqlite ? sqliteWriter(store.sqlite) : kyselyWriter(store.dialect);
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
    predictionDay: db.prepare(
      `INSERT INTO prediction_days (model_version, match_key, kind, day, created_at, log_id) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (model_version, match_key, kind, day) DO UPDATE SET created_at = excluded.created_at, log_id = excluded.log_id
       WHERE excluded.created_at >= prediction_days.created_at`,
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

/**
 * SQLite: synchronous cached statements on the raw handle. Only valid inside a Kysely transaction, which holds
 * the single connection's mutex (so `tx` is unused here).
 */
function sqliteWriter(db: SQLite.Database): LogWriter {
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
    async upsertPredictionDays(_tx, rows) {
      for (const d of rows) s.predictionDay.run(d.version, d.key, d.kind, d.day, d.createdAt, d.logId);
    },
    async mergeBucket(_tx, version, day, empty, merge, now) {
      const row = s.bucketGet.get(version, day) as { stats: string } | undefined;
      s.bucketPut.run(version, day, merge(row ? row.stats : empty), now);
    },
    async mergeShadow(_tx, version, shadow, day, empty, merge, now) {
      const row = s.shadowGet.get(version, shadow, day) as { stats: string } | undefined;
      s.shadowPut.run(version, shadow, day, merge(row ? row.stats : empty), now);
    },
    async touchDevice(_tx, id, count, version, now, lastEvent) {
      s.device.run(now, version, count, lastEvent, lastEvent, id);
    },
  };
}

const CHUNK = 500;

function chunks<T>(xs: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/**
 * Upserts `drift_songs` through Kysely (PostgreSQL, and SQLite outside the hot path: the backfill): a known song
 * gains the day if it is new and takes the device of an earlier day; its bins stay. One statement may not touch
 * a row twice, so a song with two new days goes in two rounds.
 */
export async function upsertDriftSongs(tx: Tx, rows: readonly DriftSongDelta[], dialect: Dialect): Promise<void> {
  const rounds: DriftSongDelta[][] = [];
  const seenKeys = new Map<string, number>();
  for (const d of rows) {
    const k = `${d.version}|${d.kind}|${d.key}`;
    const i = seenKeys.get(k) ?? 0;
    seenKeys.set(k, i + 1);
    const round = rounds[i] ?? [];
    round.push(d);
    rounds[i] = round;
  }
  const pg = dialect === 'postgres';
  for (const round of rounds) {
    for (const part of chunks(round)) {
      await tx
        .insertInto('drift_songs')
        .values(
          part.map((d) => ({
            model_version: d.version,
            kind: d.kind,
            song_key: d.key,
            device_id: d.device,
            first_day: d.day,
            last_day: d.day,
            days: `,${d.day},`,
            bins: d.bins,
          })),
        )
        .onConflict((oc) =>
          oc.columns(['model_version', 'kind', 'song_key']).doUpdateSet({
            device_id: sql`CASE WHEN excluded.first_day < drift_songs.first_day THEN excluded.device_id ELSE drift_songs.device_id END`,
            days: pg
              ? sql`CASE WHEN strpos(drift_songs.days, excluded.days) > 0 THEN drift_songs.days ELSE drift_songs.days || substr(excluded.days, 2) END`
              : sql`CASE WHEN instr(drift_songs.days, excluded.days) > 0 THEN drift_songs.days ELSE drift_songs.days || substr(excluded.days, 2) END`,
            first_day: pg
              ? sql`LEAST(drift_songs.first_day, excluded.first_day)`
              : sql`min(drift_songs.first_day, excluded.first_day)`,
            last_day: pg
              ? sql`GREATEST(drift_songs.last_day, excluded.last_day)`
              : sql`max(drift_songs.last_day, excluded.last_day)`,
          }),
        )
        .execute();
    }
  }
}

function logRow(p: LogInsert, receivedAt: string) {
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

/** PostgreSQL (and any Kysely dialect): multi-row inserts with RETURNING, statistics rows locked while merged. */
function kyselyWriter(dialect: Dialect): LogWriter {
  const isPg = dialect === 'postgres';
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
      await upsertDriftSongs(tx, rows, dialect);
    },
    async upsertPredictionDays(tx, rows) {
      // One row per key in `rows` (the caller keeps the batch's latest), so no statement touches a row twice.
      for (const part of chunks(rows)) {
        await tx
          .insertInto('prediction_days')
          .values(
            part.map((d) => ({
              model_version: d.version,
              match_key: d.key,
              kind: d.kind,
              day: d.day,
              created_at: d.createdAt,
              log_id: d.logId,
            })),
          )
          .onConflict((oc) =>
            oc
              .columns(['model_version', 'match_key', 'kind', 'day'])
              .doUpdateSet({ created_at: sql`excluded.created_at`, log_id: sql`excluded.log_id` })
              .where(sql<boolean>`excluded.created_at >= prediction_days.created_at`),
          )
          .execute();
      }
    },
    async mergeBucket(tx, version, day, empty, merge, now) {
      // Make sure the row exists, then lock it so concurrent instances merge in turn.
      await tx
        .insertInto('drift_buckets')
        .values({ model_version: version, day, stats: empty, updated_at: now })
        .onConflict((oc) => oc.columns(['model_version', 'day']).doNothing())
        .execute();
      let q = tx
        .selectFrom('drift_buckets')
        .select('stats')
        .where('model_version', '=', version)
        .where('day', '=', day);
      if (isPg) q = q.forUpdate();
      const row = await q.executeTakeFirstOrThrow();
      await tx
        .updateTable('drift_buckets')
        .set({ stats: merge(row.stats), updated_at: now })
        .where('model_version', '=', version)
        .where('day', '=', day)
        .execute();
    },
    async mergeShadow(tx, version, shadow, day, empty, merge, now) {
      await tx
        .insertInto('shadow_buckets')
        .values({ model_version: version, shadow_version: shadow, day, stats: empty, updated_at: now })
        .onConflict((oc) => oc.columns(['model_version', 'shadow_version', 'day']).doNothing())
        .execute();
      let q = tx
        .selectFrom('shadow_buckets')
        .select('stats')
        .where('model_version', '=', version)
        .where('shadow_version', '=', shadow)
        .where('day', '=', day);
      if (isPg) q = q.forUpdate();
      const row = await q.executeTakeFirstOrThrow();
      await tx
        .updateTable('shadow_buckets')
        .set({ stats: merge(row.stats), updated_at: now })
        .where('model_version', '=', version)
        .where('shadow_version', '=', shadow)
        .where('day', '=', day)
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
