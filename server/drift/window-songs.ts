/**
 * The songs of a drift window, each counted once. Ingest keeps one row per
 * (model version, traffic kind, song and its inputs) with the days it was
 * predicted on, the device of its earliest day and its reference bins; a window selects the
 * songs predicted on any of its days, in the chosen traffic kinds, and counts
 * each once however many days, devices and kinds predicted it. A device that
 * brought more than `maxDeviceShare` of a window's songs has its songs weighted
 * down to that share (when at least two devices are in the window), and the
 * p-values use Kish's effective sample size of those weights.
 */

import {
  binIndex,
  COUNTRY_CODES,
  outputEntropy,
  type PredictionSource,
  type ReferenceProfile,
  TRAFFIC_KINDS,
  type TrafficKind,
  trafficOf,
} from '../../model/contract/index.ts';
import { type DriftSongDelta, upsertDriftSongs } from '../store/log-writer.ts';
import type { Store } from '../store/store.ts';
import { decodeVector } from '../store/vectors.ts';
import type { DayWindow } from './window.ts';

/**
 * What a window counts once: a song (its catalogue id) with its inputs (feature fingerprint), or the inputs
 * alone when the log has no id. Two songs with identical features are two songs; a song whose features were
 * edited is a new input; the same song predicted again, on any day, by any device, is not.
 */
export function songKey(songId: string | undefined | null, fingerprint: string): string {
  return songId ? `s:${songId}|${fingerprint}` : `f:${fingerprint}`;
}

/** JSON of the song's reference bin per feature, then its top-1 country index, then its entropy bin. */
export function songBins(ref: ReferenceProfile, inputs: readonly number[], outputs: readonly number[]): string {
  const out: number[] = ref.features.map((f, i) => binIndex(f.histogram.edges, inputs[i] as number));
  let top = 0;
  for (let c = 1; c < outputs.length; c++) if ((outputs[c] as number) > (outputs[top] as number)) top = c;
  out.push(top, binIndex(ref.outputs.entropy.edges, outputEntropy(outputs)));
  return JSON.stringify(out);
}

/**
 * Fills `drift_songs` from the stored logs when it is empty but logs exist (a store upgraded from before
 * issue 11), so drift windows keep their history. Idempotent; pages through the logs in id (time) order.
 */
export async function backfillDriftSongs(
  store: Store,
  reference: (version: string) => Promise<ReferenceProfile | null>,
): Promise<number> {
  const db = store.db;
  if (await db.selectFrom('drift_songs').select('song_key').limit(1).executeTakeFirst()) return 0;
  const refs = new Map<string, ReferenceProfile | null>();
  let after = '';
  let logs = 0;
  for (;;) {
    const rows = await db
      .selectFrom('logs')
      .select(['id', 'model_version', 'device_id', 'day', 'song_id', 'fingerprint', 'inputs', 'outputs', 'source'])
      .select('traffic')
      .where('id', '>', after)
      .orderBy('id')
      .limit(5000)
      .execute();
    if (rows.length === 0) break;
    after = rows[rows.length - 1]?.id as string;
    logs += rows.length;
    const deltas = new Map<string, DriftSongDelta>();
    for (const r of rows) {
      if (!refs.has(r.model_version)) refs.set(r.model_version, await reference(r.model_version));
      const ref = refs.get(r.model_version);
      if (!ref) continue;
      const kind = (r.traffic as TrafficKind | null) ?? trafficOf({ source: r.source as PredictionSource });
      const key = songKey(r.song_id, r.fingerprint);
      const k = `${r.model_version}|${kind}|${key}|${r.day}`;
      if (deltas.has(k)) continue;
      deltas.set(k, {
        version: r.model_version,
        kind,
        key,
        device: r.device_id,
        day: r.day,
        bins: songBins(ref, decodeVector(r.inputs), decodeVector(r.outputs)),
      });
    }
    await db.transaction().execute((tx) => upsertDriftSongs(tx, [...deltas.values()], store.dialect));
  }
  return logs;
}

/** Weighted histograms of a window's songs on the reference bins. */
export interface WindowSample {
  /** Distinct songs in the window. */
  songs: number;
  /** Kish's effective sample size after the per-device weights. */
  effectiveN: number;
  /** Songs per device (the device of each song's earliest day), by device id. */
  devices: Record<string, number>;
  /** Weight given to each device's songs (1 = not capped). */
  deviceWeights: Record<string, number>;
  features: number[][];
  top1: number[];
  entropy: number[];
}

export function emptySample(ref: ReferenceProfile): WindowSample {
  return {
    songs: 0,
    effectiveN: 0,
    devices: {},
    deviceWeights: {},
    features: ref.features.map((f) => new Array<number>(f.histogram.counts.length).fill(0)),
    top1: new Array<number>(COUNTRY_CODES.length).fill(0),
    entropy: new Array<number>(ref.outputs.entropy.counts.length).fill(0),
  };
}

export interface WindowSong {
  key: string;
  device: string;
  /** Days in the window it was predicted on (any kind selected); may be empty when not asked for. */
  days: string[];
  bins: number[];
}

/** Which row speaks for a song predicted in several of the chosen kinds: its earliest day, then kind order. */
const KIND_RANK: Record<string, number> = Object.fromEntries(TRAFFIC_KINDS.map((k, i) => [k, i]));
function wins(first: string, kind: string, than: { first: string; kind: string }): boolean {
  return first < than.first || (first === than.first && (KIND_RANK[kind] ?? 99) < (KIND_RANK[than.kind] ?? 99));
}

/**
 * Songs predicted on a day of the window in one of the kinds, each once: a song predicted in several kinds
 * is the row of its earliest day (tie: the kind first in TRAFFIC_KINDS), so its device is the device of its
 * earliest day over the chosen kinds. `days` lists the song's days inside the window, over all chosen kinds.
 * Used by the per-period timeseries; a whole-window report uses `loadWindowSample`, which counts without
 * building these objects.
 */
export async function loadWindowSongs(
  store: Store,
  version: string,
  w: DayWindow,
  kinds: readonly TrafficKind[],
): Promise<WindowSong[]> {
  if (kinds.length === 0) return [];
  type Row = { song_key: string; kind: string; device_id: string; first_day: string; days: string; bins: string };
  const rows: Row[] = store.sqlite
    ? // Straight from SQLite (no query builder per row): the dashboard's timeseries reads every song of the window.
      (store.sqlite
        .prepare(
          `SELECT song_key, kind, device_id, first_day, days, bins FROM drift_songs
           WHERE model_version = ? AND kind IN (${kinds.map(() => '?').join(',')}) AND last_day >= ? AND first_day <= ?`,
        )
        .all(version, ...kinds, w.from, w.to) as Row[])
    : await store.db
        .selectFrom('drift_songs')
        .select(['song_key', 'kind', 'device_id', 'first_day', 'days', 'bins'])
        .where('model_version', '=', version)
        .where('kind', 'in', [...kinds])
        .where('last_day', '>=', w.from)
        .where('first_day', '<=', w.to)
        .execute();
  const inWindow = (d: string) => d !== '' && d >= w.from && d <= w.to;
  const out = new Map<string, WindowSong & { first: string; kind: string }>();
  for (const r of rows) {
    const days = r.days.split(',').filter(inWindow);
    if (days.length === 0) continue;
    const seen = out.get(r.song_key);
    if (!seen) {
      out.set(r.song_key, {
        key: r.song_key,
        device: r.device_id,
        days,
        bins: JSON.parse(r.bins) as number[],
        first: r.first_day,
        kind: r.kind,
      });
      continue;
    }
    for (const d of days) if (!seen.days.includes(d)) seen.days.push(d);
    if (wins(r.first_day, r.kind, seen)) {
      seen.device = r.device_id;
      seen.bins = JSON.parse(r.bins) as number[];
      seen.first = r.first_day;
      seen.kind = r.kind;
    }
  }
  return [...out.values()].map(({ key, device, days, bins }) => ({ key, device, days, bins }));
}

/**
 * Per-device weights: a device above `maxShare` of the (weighted) songs is scaled down to that share of
 * the window, repeatedly until none is above it. With a single device there is nothing to balance.
 */
export function deviceWeights(perDevice: Record<string, number>, maxShare: number): Record<string, number> {
  const ids = Object.keys(perDevice);
  const w: Record<string, number> = Object.fromEntries(ids.map((d) => [d, 1]));
  if (ids.length < 2 || maxShare >= 1) return w;
  for (let iter = 0; iter < 20; iter++) {
    const mass = (d: string) => (w[d] as number) * (perDevice[d] as number);
    const total = ids.reduce((a, d) => a + mass(d), 0);
    let changed = false;
    for (const d of ids) {
      if (mass(d) <= maxShare * total * (1 + 1e-9)) continue;
      const others = total - mass(d);
      // Solve m / (m + others) = maxShare for this device's mass m.
      w[d] = (maxShare * others) / (1 - maxShare) / (perDevice[d] as number);
      changed = true;
    }
    if (!changed) break;
  }
  return w;
}

function bump(counts: Int32Array, i: number): void {
  counts[i] = (counts[i] as number) + 1;
}

/**
 * Integer song counts per device on the reference bins, then weighted once per device. Every song of a
 * device has the same weight, so Σ over songs of w = w × (the device's count): the weighted histograms and
 * Kish's n need only these counts, and the result does not depend on the order songs were read in.
 */
export class SampleCounter {
  /** Start of each value's bins in a device's flat count vector: features, then top-1, then entropy. */
  readonly #offsets: Int32Array;
  readonly #sizes: Int32Array;
  readonly #length: number;
  readonly #perDevice = new Map<string, { songs: number; counts: Int32Array }>();

  readonly #ref: ReferenceProfile;
  constructor(ref: ReferenceProfile) {
    this.#ref = ref;
    const sizes = [
      ...ref.features.map((f) => f.histogram.counts.length),
      COUNTRY_CODES.length,
      ref.outputs.entropy.counts.length,
    ];
    this.#sizes = Int32Array.from(sizes);
    this.#offsets = new Int32Array(sizes.length);
    let at = 0;
    sizes.forEach((n, i) => {
      this.#offsets[i] = at;
      at += n;
    });
    this.#length = at;
  }

  #device(id: string): { songs: number; counts: Int32Array } {
    let d = this.#perDevice.get(id);
    if (!d) {
      d = { songs: 0, counts: new Int32Array(this.#length) };
      this.#perDevice.set(id, d);
    }
    return d;
  }

  /** One song with its bins (feature bins, top-1 index, entropy bin). */
  add(device: string, bins: readonly number[]): void {
    const d = this.#device(device);
    d.songs++;
    for (let j = 0; j < this.#sizes.length; j++) {
      const b = bins[j] as number;
      if (b >= 0 && b < (this.#sizes[j] as number)) bump(d.counts, (this.#offsets[j] as number) + b);
    }
  }

  /** One song with its bins as stored (`[3,0,…]`): read in place, no JSON.parse per row on the hot read. */
  addStored(device: string, bins: string): void {
    const d = this.#device(device);
    d.songs++;
    let j = 0;
    let v = -1;
    for (let i = 0; i < bins.length; i++) {
      const c = bins.charCodeAt(i);
      if (c >= 48 && c <= 57) v = (v < 0 ? 0 : v * 10) + (c - 48);
      else if (v >= 0) {
        if (j < this.#sizes.length && v < (this.#sizes[j] as number)) bump(d.counts, (this.#offsets[j] as number) + v);
        j++;
        v = -1;
      }
    }
  }

  sample(maxDeviceShare: number): WindowSample {
    const s = emptySample(this.#ref);
    const ids = [...this.#perDevice.keys()].sort();
    for (const id of ids) s.devices[id] = (this.#perDevice.get(id) as { songs: number }).songs;
    s.deviceWeights = deviceWeights(s.devices, maxDeviceShare);
    let sum = 0;
    let sum2 = 0;
    const hists = [...s.features, s.top1, s.entropy];
    for (const id of ids) {
      const d = this.#perDevice.get(id) as { songs: number; counts: Int32Array };
      const wt = s.deviceWeights[id] ?? 1;
      s.songs += d.songs;
      sum += wt * d.songs;
      sum2 += wt * wt * d.songs;
      for (let j = 0; j < hists.length; j++) {
        const h = hists[j] as number[];
        const off = this.#offsets[j] as number;
        for (let b = 0; b < h.length; b++) {
          const c = d.counts[off + b] as number;
          if (c !== 0) h[b] = (h[b] as number) + wt * c;
        }
      }
    }
    s.effectiveN = sum2 > 0 ? (sum * sum) / sum2 : 0;
    return s;
  }
}

/** Weighted histograms of the songs on the reference bins. */
export function sampleOf(ref: ReferenceProfile, songs: readonly WindowSong[], maxDeviceShare: number): WindowSample {
  const counter = new SampleCounter(ref);
  for (const song of songs) counter.add(song.device, song.bins);
  return counter.sample(maxDeviceShare);
}

/** Whether a stored day list (`,YYYY-MM-DD,…,`) has a day in the window, without splitting it. */
function hasDayIn(days: string, w: DayWindow): boolean {
  for (let i = 1; i + 10 <= days.length; i += 11) {
    const d = days.slice(i, i + 10);
    if (d >= w.from && d <= w.to) return true;
  }
  return false;
}

/**
 * The whole-window sample the drift report and the alert read: the same songs `loadWindowSongs` selects,
 * counted straight into per-device bin counts. With one kind (the default) every row is a distinct song,
 * and a row whose first or last day is in the window needs no look at its days, so the read is one pass
 * over (device, bins) from a covering index, the day list travelling only for songs that span the window.
 */
export async function loadWindowSample(
  store: Store,
  ref: ReferenceProfile,
  version: string,
  w: DayWindow,
  kinds: readonly TrafficKind[],
  maxDeviceShare: number,
): Promise<WindowSample> {
  const counter = new SampleCounter(ref);
  if (kinds.length === 0) return counter.sample(maxDeviceShare);
  const single = kinds.length === 1;
  // Two reads: songs with an end of their span inside the window (in it for sure: device and bins only, from
  // the index drift_songs_window), and songs that span the whole window (their day list decides).
  // [device, bins, days or null for the first read, song key, kind, first day]
  type Row = [string, string, string | null, string, string, string];
  let rows: Row[];
  if (store.sqlite) {
    const extra = single ? "'', '', ''" : 'song_key, kind, first_day';
    const inKinds = `kind IN (${kinds.map(() => '?').join(',')})`;
    const edge = store.sqlite
      .prepare(
        `SELECT device_id, bins, NULL, ${extra} FROM drift_songs
         WHERE model_version = ? AND ${inKinds} AND last_day >= ? AND first_day <= ? AND (first_day >= ? OR last_day <= ?)`,
      )
      .raw()
      .all(version, ...kinds, w.from, w.to, w.from, w.to) as Row[];
    const spanning = store.sqlite
      .prepare(
        `SELECT device_id, bins, days, ${extra} FROM drift_songs
         WHERE model_version = ? AND ${inKinds} AND last_day > ? AND first_day < ?`,
      )
      .raw()
      .all(version, ...kinds, w.to, w.from) as Row[];
    rows = spanning.length > 0 ? edge.concat(spanning) : edge;
  } else {
    rows = (
      await store.db
        .selectFrom('drift_songs')
        .select(['song_key', 'kind', 'device_id', 'first_day', 'last_day', 'days', 'bins'])
        .where('model_version', '=', version)
        .where('kind', 'in', [...kinds])
        .where('last_day', '>=', w.from)
        .where('first_day', '<=', w.to)
        .execute()
    ).map((r) => {
      const edge = r.first_day >= w.from || r.last_day <= w.to;
      return [r.device_id, r.bins, edge ? null : r.days, r.song_key, r.kind, r.first_day];
    });
  }
  if (single) {
    for (const [device, bins, days] of rows) if (days === null || hasDayIn(days, w)) counter.addStored(device, bins);
    return counter.sample(maxDeviceShare);
  }
  const chosen = new Map<string, { first: string; kind: string; device: string; bins: string }>();
  for (const [device, bins, days, key, kind, first] of rows) {
    if (days !== null && !hasDayIn(days, w)) continue;
    const seen = chosen.get(key);
    if (!seen || wins(first, kind, seen)) chosen.set(key, { first, kind, device, bins });
  }
  for (const c of chosen.values()) counter.addStored(c.device, c.bins);
  return counter.sample(maxDeviceShare);
}
