import { describe, expect, it } from 'vitest';
import { buildTargets, featureMatrix, labelMatrix } from './targets.ts';
import type { ChartRow } from './validate.ts';

const f = (v: number) => [0, 200000, v, 0.5, 1, -5, 1, 0.1, 0.1, 0, 0.1, 0.5, 120];

describe('build targets', () => {
  it('makes one example per song with the set of countries it charted in, global chart excluded', () => {
    const rows: ChartRow[] = [
      { songId: 'a', country: 'DE', features: f(0.1) },
      { songId: 'a', country: 'AT', features: f(0.1) },
      { songId: 'a', country: 'DE', features: f(0.1) },
      { songId: 'a', country: null, features: f(0.1) },
      { songId: 'b', country: null, features: f(0.2) },
      { songId: 'c', country: 'ZA', features: f(0.3) },
    ];
    const t = buildTargets(rows);
    expect(t.songs.map((s) => s.id)).toEqual(['a', 'c']);
    expect(t.songs[0]?.y).toEqual([2, 15]); // AT, DE in COUNTRY_CODES order
    expect(t.songs[1]?.y).toEqual([71]);
    expect(t.globalOnlySongs).toBe(1);
    expect(t.positives[15]).toBe(1);
    const y = labelMatrix(t.songs);
    expect(y.length).toBe(2 * 72);
    expect(y.reduce((a, b) => a + b, 0)).toBe(3);
    expect(Array.from(featureMatrix(t.songs).subarray(13, 26))).toEqual(f(0.3).map((v) => Math.fround(v)));
  });
});
