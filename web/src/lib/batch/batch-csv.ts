/**
 * The downloadable result of a batch: one row per song with its top
 * countries and all 72 probabilities, in a CSV that spreadsheets open.
 */
import Papa from 'papaparse';
import type { CatalogueSong } from '../../../../model/contract/api.ts';
import { COUNTRY_CODES } from '../../../../model/contract/countries.ts';

export const TOP_K = 5;

/** Indices of the k largest outputs, largest first. */
export function topCountries(outputs: ArrayLike<number>, k = TOP_K): number[] {
  return Array.from({ length: outputs.length }, (_, i) => i)
    .sort((a, b) => (outputs[b] ?? 0) - (outputs[a] ?? 0))
    .slice(0, k);
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
