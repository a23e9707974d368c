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

import { sql, type Transaction } from 'kysely';
import {
  binIndex,
  COUNTRY_CODES,
  outputEntropy,
  type PredictionSource,
  type ReferenceProfile,
  type TrafficKind,
  trafficOf,
} from '../../model/contract/index.ts';
import { kishEffectiveN } from '../../model/drift/stats.ts';
import type { Database } from '../store/schema.ts';
import type { Dialect, Store } from '../store/store.ts';
import { decodeVector } from '../store/vectors.ts';
import type { Window } from './window.ts';

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

export interface DriftSongDelta {
  version: string;
  kind: TrafficKind;
  key: string;
  device: string;
  day: string;
  bins: string;
}

/**
 * Upserts through Kysely (PostgreSQL, and SQLite outside the ingest hot path): a known song gains the day if
 * it is new and takes the device of an earlier day; its bins stay. One statement may not touch a row twice,
 * so a song with two new days goes in two rounds.
 */
export async function upsertDriftSongs(
  tx: Transaction<Database>,
  rows: readonly DriftSongDelta[],
  dialect: Dialect,
): Promise<void> {
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
    for (let i = 0; i < round.length; i += 500) {
      await tx
        .insertInto('drift_songs')
        .values(
          round.slice(i, i + 500).map((d) => ({
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
  /** Songs per device (first device to predict each song). */
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

/**
 * Songs predicted on a day of the window in one of the kinds, each once (first kind's row wins). `days`
 * lists the song's days inside the window when `withDays` is set; a report that only needs the songs skips
 * that work (a song whose first or last day is in the window needs no look at its days).
 */
export async function loadWindowSongs(
  store: Store,
  version: string,
  w: Window,
  kinds: readonly TrafficKind[],
  withDays = true,
): Promise<WindowSong[]> {
  if (kinds.length === 0) return [];
  type Row = [string, string, string, string, string, string];
  let rows: Row[];
  if (store.sqlite) {
    // The hot read of every report: raw rows straight from SQLite, no per-row objects.
    rows = store.sqlite
      .prepare(
        // The day list only travels when needed: for the days, or when neither end of the song's span is inside.
        `SELECT song_key, device_id, first_day, last_day,
           CASE WHEN ? = 0 AND ((first_day >= ? AND first_day <= ?) OR (last_day >= ? AND last_day <= ?)) THEN '' ELSE days END,
           bins FROM drift_songs
         WHERE model_version = ? AND kind IN (${kinds.map(() => '?').join(',')}) AND last_day >= ? AND first_day <= ?`,
      )
      .raw()
      .all(withDays ? 1 : 0, w.from, w.to, w.from, w.to, version, ...kinds, w.from, w.to) as Row[];
  } else {
    rows = (
      await store.db
        .selectFrom('drift_songs')
        .select(['song_key', 'device_id', 'first_day', 'last_day', 'days', 'bins'])
        .where('model_version', '=', version)
        .where('kind', 'in', [...kinds])
        .where('last_day', '>=', w.from)
        .where('first_day', '<=', w.to)
        .execute()
    ).map((r) => [r.song_key, r.device_id, r.first_day, r.last_day, r.days, r.bins]);
  }
  const inWindow = (d: string) => d !== '' && d >= w.from && d <= w.to;
  const out = new Map<string, WindowSong>();
  for (const [key, device, first, last, daysText, bins] of rows) {
    let days: string[] = [];
    const edgeInside = (first >= w.from && first <= w.to) || (last >= w.from && last <= w.to);
    if (withDays || !edgeInside) {
      days = daysText.split(',').filter(inWindow);
      if (days.length === 0) continue;
    }
    const seen = out.get(key);
    if (seen) {
      for (const d of days) if (!seen.days.includes(d)) seen.days.push(d);
      continue;
    }
    out.set(key, { key, device, days, bins: JSON.parse(bins) as number[] });
  }
  return [...out.values()];
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

/** Weighted histograms of the songs on the reference bins. */
export function sampleOf(ref: ReferenceProfile, songs: readonly WindowSong[], maxDeviceShare: number): WindowSample {
  const s = emptySample(ref);
  for (const song of songs) s.devices[song.device] = (s.devices[song.device] ?? 0) + 1;
  s.deviceWeights = deviceWeights(s.devices, maxDeviceShare);
  const weights: number[] = [];
  const nf = ref.features.length;
  for (const song of songs) {
    const wt = s.deviceWeights[song.device] ?? 1;
    weights.push(wt);
    for (let f = 0; f < nf; f++) {
      const h = s.features[f] as number[];
      const b = song.bins[f] as number;
      h[b] = (h[b] as number) + wt;
    }
    const top = song.bins[nf] as number;
    const e = song.bins[nf + 1] as number;
    s.top1[top] = (s.top1[top] as number) + wt;
    s.entropy[e] = (s.entropy[e] as number) + wt;
  }
  s.songs = songs.length;
  s.effectiveN = kishEffectiveN(weights);
  return s;
}
