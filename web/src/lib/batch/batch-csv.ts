/**
 * The downloadable result of a batch: one row per song with its top
 * countries and all 72 probabilities, in a CSV that spreadsheets open.
 */
import Papa from 'papaparse';
import type { CatalogueSong } from '../../../../model/contract/api.ts';
import { COUNTRY_CODES } from '../../../../model/contract/countries.ts';

export const TOP_K = 5;

/**
 * Indices of the k largest outputs, largest first; ties keep index order. Insertion into a sorted list of at most
 * k: a plain loop, no comparator calls, and for the top few no sort of all 72 (it runs on every click and for
 * every song of a batch).
 */
export function topCountries(outputs: ArrayLike<number>, k = TOP_K): number[] {
  const top: number[] = [];
  const at = (j: number) => outputs[top[j]!] ?? 0;
  for (let i = 0; i < outputs.length; i++) {
    const v = outputs[i] ?? 0;
    if (top.length === k && !(v > at(k - 1))) continue;
    let j = Math.min(top.length, k - 1);
    for (; j > 0 && at(j - 1) < v; j--) top[j] = top[j - 1]!;
    top[j] = i;
  }
  return top;
}

export function batchResultCsv(songs: readonly CatalogueSong[], outputs: Float32Array): string {
  const width = COUNTRY_CODES.length;
  const header = ['song_id', 'name', 'artists', 'top_countries', ...COUNTRY_CODES.map((c) => `p_${c}`)];
  const rows = songs.map((s, r) => {
    const y = outputs.subarray(r * width, (r + 1) * width);
    const top = topCountries(y)
      .map((i) => `${COUNTRY_CODES[i]} ${(y[i]! * 100).toFixed(1)}%`)
      .join('; ');
    return [s.id, s.name, s.artists, top, ...Array.from(y, (v) => v.toFixed(5))];
  });
  return Papa.unparse({ fields: header, data: rows });
}
