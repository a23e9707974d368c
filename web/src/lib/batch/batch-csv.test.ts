import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../../model/runtime/prng.ts';
import { topCountries } from './batch-csv.ts';

/** The plain definition: a stable sort of all indices by value, largest first. */
const reference = (xs: ArrayLike<number>, k: number) =>
  Array.from({ length: xs.length }, (_, i) => i)
    .sort((a, b) => (xs[b] ?? 0) - (xs[a] ?? 0))
    .slice(0, k);

describe('topCountries', () => {
  it('ranks like a stable sort of all 72, ties in index order, for any k', () => {
    const rand = mulberry32(17);
    for (let trial = 0; trial < 200; trial++) {
      // Few distinct values (many ties) in half the trials, probabilities in the rest.
      const ties = trial % 2 === 0;
      const xs = Float32Array.from({ length: 72 }, () => (ties ? Math.floor(rand() * 6) / 6 : rand()));
      for (const k of [1, 3, 5, 12, 71, 72, 100]) expect(topCountries(xs, k)).toEqual(reference(xs, k));
    }
    expect(topCountries(new Float32Array(72), 72)).toEqual(Array.from({ length: 72 }, (_, i) => i));
    expect(topCountries(new Float32Array(0), 5)).toEqual([]);
  });
});
