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
  type ReferenceProfile,
  type TrafficKind,
} from '../../model/contract/index.ts';
import { kishEffectiveN } from '../../model/drift/stats.ts';
import type { Store } from '../store/store.ts';
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
