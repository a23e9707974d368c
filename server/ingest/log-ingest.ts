/**
 * The ingest hot path for prediction logs: what one batch stores, decided here and written in one transaction
 * through the store's log writer (`store/log-writer.ts`, where the SQL lives). The logs go in with
 * `ON CONFLICT DO NOTHING` (a retry stores nothing twice and the answer says which ids were new; an id sent
 * again with other content is 409 `id-reused`), then for the new logs: the per-day distinct fingerprints, the
 * drift bucket deltas computed in memory and merged into each (version, day) row once, the (version, traffic
 * kind, song) rows that drift windows count songs by (`drift/window-songs.ts`), the latest prediction of each
 * day per song and per fingerprint that outcome matching reads (`drift/performance.ts`), shadow comparisons,
 * and the device's last-seen. Every log row is kept.
 */

import {
  featureFingerprint,
  type LogBatchResponse,
  type PredictionLog,
  type ReferenceProfile,
  toVector,
  trafficOf,
} from '../../model/contract/index.ts';
import { DomainError } from '../domain-error.ts';
import { addDistinct, addRow, type DriftBucket, emptyBucket, mergeInto } from '../drift/bucket.ts';
import { addShadow, emptyShadow, mergeShadow, type ShadowStats } from '../drift/shadow.ts';
import { songBins, songKey } from '../drift/window-songs.ts';
import type { Registry } from '../registry/registry.ts';
import { type DriftSongDelta, type LogInsert, logWriter, type PredictionDay, type Tx } from '../store/log-writer.ts';
import type { Store } from '../store/store.ts';
import { reusedLogIds } from './log-conflicts.ts';

/** UTC day (YYYY-MM-DD) of an ISO date-time with any offset: the drift bucket of a log. */
export function utcDay(isoDateTime: string): string {
  // Already UTC ("…Z"): the day is the prefix; an offset needs the real conversion.
  if (isoDateTime.endsWith('Z')) return isoDateTime.slice(0, 10);
  return new Date(isoDateTime).toISOString().slice(0, 10);
}

type Prepared = LogInsert;

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

/** A 32-bit hash of a vector's float64 bits (remembers which outputs a stored prediction day holds). */
const scratch = new Float64Array(1);
const scratchWords = new Uint32Array(scratch.buffer);
function vectorHash(xs: readonly number[]): number {
  let h = 0x811c9dc5;
  for (const x of xs) {
    scratch[0] = x;
    h = Math.imul(h ^ (scratchWords[0] as number), 0x01000193);
    h = Math.imul(h ^ (scratchWords[1] as number), 0x01000193);
  }
  return h >>> 0;
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
  readonly #knownKeys = new Set<string>();
  /** (version, kind, song key, day) this process has seen committed to drift_songs (same rule as knownKeys). */
  readonly #knownSongDays = new Set<string>();
  /**
   * (version, kind, match key, day) → the createdAt and a hash of the outputs this process has seen committed to
   * prediction_days: a log older than that, or as old with the same outputs, changes nothing there.
   */
  readonly #knownPredictionDays = new Map<string, { at: string; hash: number }>();

  readonly #store: Store;
  readonly #registry: Registry;

  constructor(store: Store, registry: Registry) {
    this.#store = store;
    this.#registry = registry;
  }

  /**
   * Stores a validated batch atomically. `deviceId` is the caller's device
   * (null for an admin, who may send logs for any device). `fingerprints[i]`, when given, is
   * `featureFingerprint(logs[i].inputs)`, already computed by the parse thread.
   */
  async ingest(
    logs: readonly PredictionLog[],
    deviceId: string | null,
    fingerprints?: readonly string[],
  ): Promise<LogBatchResponse> {
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
      const ref = await this.#registry.reference(v);
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
    for (let i = 0; i < logs.length; i++) {
      const log = logs[i] as PredictionLog;
      if (seen.has(log.id)) continue;
      seen.add(log.id);
      prepared.push({
        log,
        day: utcDay(log.createdAt),
        fingerprint: fingerprints?.[i] ?? featureFingerprint(log.inputs),
        inputs: toVector(log.inputs),
        traffic: trafficOf(log),
      });
    }
    // Sorted keys keep concurrent PostgreSQL transactions from deadlocking on each other's rows.
    prepared.sort((a, b) => (a.log.id < b.log.id ? -1 : 1));
    const receivedAt = new Date().toISOString();

    const inserted = new Set<string>();
    let committedKeys: string[] = [];
    let committedSongDays: string[] = [];
    let committedPredictionDays: [string, { at: string; hash: number }][] = [];
    const writer = logWriter(this.#store);
    await this.#store.db.transaction().execute(async (tx) => {
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
      const unknownKeys = keys.filter((k) => !this.#knownKeys.has(k));
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
        if (songDays.has(k) || this.#knownSongDays.has(k)) continue;
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
      // Outcome matching: per song id and per fingerprint, the latest prediction of each day and kind. `fresh`
      // is in id order, the order the logs were inserted, so on equal times the later one wins as in the store.
      // A log older than what this process committed for its key, or as old with the same outputs, changes nothing.
      const latest = new Map<string, { p: Prepared; key: string; hash: number }>();
      for (const p of fresh) {
        const at = p.log.createdAt;
        let hash = -1;
        for (let i = 0; i < 2; i++) {
          const key = i === 0 ? (p.log.songId ? `s:${p.log.songId}` : null) : `f:${p.fingerprint}`;
          if (key === null) continue;
          const k = `${p.log.modelVersion}|${p.traffic}|${key}|${p.day}`;
          const known = this.#knownPredictionDays.get(k);
          if (known !== undefined && at <= known.at) {
            if (at < known.at) continue;
            if (hash < 0) hash = vectorHash(p.log.outputs);
            if (hash === known.hash) continue;
          }
          const seen = latest.get(k);
          if (seen === undefined || at >= seen.p.log.createdAt) latest.set(k, { p, key, hash });
        }
      }
      const dayKeys = [...latest.keys()].sort();
      const days: PredictionDay[] = dayKeys.map((k) => {
        const { p, key } = latest.get(k) as { p: Prepared; key: string };
        return {
          version: p.log.modelVersion,
          kind: p.traffic,
          key,
          day: p.day,
          createdAt: p.log.createdAt,
          logId: p.log.id,
        };
      });
      await writer.upsertPredictionDays(tx, days);
      committedPredictionDays = dayKeys.map((k) => {
        const { p, hash } = latest.get(k) as { p: Prepared; hash: number };
        return [k, { at: p.log.createdAt, hash: hash < 0 ? vectorHash(p.log.outputs) : hash }];
      });
      const now = new Date().toISOString();
      for (const k of [...deltas.keys()].sort()) {
        const d = deltas.get(k) as Delta;
        const merge = (stored: string) => JSON.stringify(mergeInto(JSON.parse(stored) as DriftBucket, d.b));
        await writer.mergeBucket(tx, d.version, d.day, JSON.stringify(emptyBucket(d.ref)), merge, now);
      }
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
      for (const k of [...shadows.keys()].sort()) {
        const d = shadows.get(k) as ShadowDelta;
        const merge = (stored: string) => JSON.stringify(mergeShadow(JSON.parse(stored) as ShadowStats, d.s));
        await writer.mergeShadow(tx, d.version, d.shadow, d.day, JSON.stringify(emptyShadow()), merge, now);
      }
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
    if (this.#knownKeys.size + committedKeys.length > KNOWN_KEYS_MAX) this.#knownKeys.clear();
    for (const k of committedKeys) this.#knownKeys.add(k);
    if (this.#knownSongDays.size + committedSongDays.length > KNOWN_KEYS_MAX) this.#knownSongDays.clear();
    for (const k of committedSongDays) this.#knownSongDays.add(k);
    if (this.#knownPredictionDays.size + committedPredictionDays.length > KNOWN_KEYS_MAX) {
      this.#knownPredictionDays.clear();
    }
    for (const [k, known] of committedPredictionDays) this.#knownPredictionDays.set(k, known);
    const stored = prepared.map((p) => p.log.id);
    return { stored, duplicates: stored.filter((id) => !inserted.has(id)) };
  }
}
