/**
 * Step 3, build targets: one example per song, its multi-label target the
 * set of countries it charted in. The global chart is not a country; songs
 * seen only on the global chart have no target and are left out (counted).
 */
import { COUNTRY_CODES, type CountryCode } from '../contract/index.ts';
import type { ChartRow } from './validate.ts';

export interface Song {
  readonly id: string;
  /** Raw features in FEATURE_NAMES order. */
  readonly x: readonly number[];
  /** Indices into COUNTRY_CODES of the countries it charted in, ascending. */
  readonly y: readonly number[];
}

export interface TargetsResult {
  readonly songs: Song[];
  readonly globalOnlySongs: number;
  /** Songs per country, in COUNTRY_CODES order. */
  readonly positives: number[];
}

const COUNTRY_INDEX = new Map<CountryCode, number>(COUNTRY_CODES.map((c, i) => [c, i]));

/** Songs in order of first appearance, so the result is deterministic for a given input. */
export function buildTargets(rows: readonly ChartRow[]): TargetsResult {
  const songs = new Map<string, { x: readonly number[]; y: Set<number> }>();
  for (const r of rows) {
    let s = songs.get(r.songId);
    if (!s) {
      s = { x: r.features, y: new Set() };
      songs.set(r.songId, s);
    }
    if (r.country !== null) s.y.add(COUNTRY_INDEX.get(r.country) as number);
  }
  const out: Song[] = [];
  const positives = new Array<number>(COUNTRY_CODES.length).fill(0);
  let globalOnlySongs = 0;
  for (const [id, s] of songs) {
    if (s.y.size === 0) {
      globalOnlySongs += 1;
      continue;
    }
    const y = [...s.y].sort((a, b) => a - b);
    for (const c of y) positives[c] = (positives[c] as number) + 1;
    out.push({ id, x: s.x, y });
  }
  return { songs: out, globalOnlySongs, positives };
}

/** Dense 0/1 label matrix (songs × 72), row-major. */
export function labelMatrix(songs: readonly Song[]): Float32Array {
  const k = COUNTRY_CODES.length;
  const m = new Float32Array(songs.length * k);
  songs.forEach((s, i) => {
    for (const c of s.y) m[i * k + c] = 1;
  });
  return m;
}

/** Raw feature matrix (songs × 13), row-major. */
export function featureMatrix(songs: readonly Song[]): Float32Array {
  const n = songs[0]?.x.length ?? 0;
  const m = new Float32Array(songs.length * n);
  songs.forEach((s, i) => {
    m.set(s.x, i * n);
  });
  return m;
}
