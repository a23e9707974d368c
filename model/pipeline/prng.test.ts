import { describe, expect, it } from 'vitest';
import { deriveSeed, mulberry32, shuffleInPlace } from './prng.ts';

describe('seeded randomness', () => {
  it('repeats the same stream for the same seed and differs for another', () => {
    const a = Array.from({ length: 5 }, mulberry32(7));
    const b = Array.from({ length: 5 }, mulberry32(7));
    const c = Array.from({ length: 5 }, mulberry32(8));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    for (const v of a) expect(v >= 0 && v < 1).toBe(true);
  });

  it('shuffles into a permutation, deterministically', () => {
    const x = shuffleInPlace(
      Array.from({ length: 50 }, (_, i) => i),
      mulberry32(1),
    );
    const y = shuffleInPlace(
      Array.from({ length: 50 }, (_, i) => i),
      mulberry32(1),
    );
    expect(x).toEqual(y);
    expect([...x].sort((p, q) => p - q)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(x).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('derives distinct stable seeds per purpose', () => {
    expect(deriveSeed(42, 'split')).toBe(deriveSeed(42, 'split'));
    expect(deriveSeed(42, 'split')).not.toBe(deriveSeed(42, 'batches'));
    expect(deriveSeed(42, 'split')).not.toBe(deriveSeed(43, 'split'));
  });
});
