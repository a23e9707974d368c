/**
 * Where a probability sits among the catalogue's songs, per country: the catalogue is scored once per model
 * on the device (offline), each country's outputs kept sorted, and a song's percentile is a binary search.
 * Sorting 72 columns of ~14,000 would hold a frame (test/bench/README.md), so it is done a few countries at a
 * time between frames.
 */
import { binIndex } from '../../../../model/contract/reference.ts';

export interface CataloguePercentiles {
  /** The model version and catalogue version they were computed for. */
  readonly key: string;
  readonly songs: number;
  /** Per country, the catalogue's probabilities in ascending order. */
  readonly sorted: readonly Float32Array[];
}

/** Sorted column c of a rows × k output matrix. */
function sortedColumn(outputs: Float32Array, rows: number, k: number, c: number): Float32Array {
  const col = new Float32Array(rows);
  for (let r = 0; r < rows; r++) col[r] = outputs[r * k + c] as number;
  return col.sort();
}

/**
 * @param yieldEvery sort this many countries, then let the page breathe (0: all at once, for tests)
 */
export async function buildPercentiles(
  key: string,
  outputs: Float32Array,
  rows: number,
  k: number,
  yieldEvery = 8,
): Promise<CataloguePercentiles> {
  const sorted: Float32Array[] = [];
  for (let c = 0; c < k; c++) {
    sorted.push(sortedColumn(outputs, rows, k, c));
    if (yieldEvery > 0 && (c + 1) % yieldEvery === 0) await new Promise((r) => setTimeout(r, 0));
  }
  return { key, songs: rows, sorted };
}

/**
 * Percentile (0–100) of probability p among the catalogue's songs in country c: the share scoring lower, ties
 * counted half (so the catalogue's own median song is at 50).
 *
 * @example percentileOf(pcts, 3, 0.12) // 97.4: higher than 97.4% of catalogue songs in Australia
 */
export function percentileOf(p: CataloguePercentiles, c: number, v: number): number {
  const a = p.sorted[c];
  if (!a || a.length === 0) return Number.NaN;
  // Compare in float32, as the catalogue's outputs are stored: a catalogue song must tie with itself.
  const f = Math.fround(v);
  const lo = binIndex(a, f); // how many catalogue values lie strictly below f
  let hi = lo;
  while (hi < a.length && a[hi] === f) hi++;
  return ((lo + (hi - lo) / 2) / a.length) * 100;
}
