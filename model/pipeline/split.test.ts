import { describe, expect, it } from 'vitest';
import { mulberry32 } from './prng.ts';
import { splitBySong } from './split.ts';
import type { Song } from './targets.ts';

function songs(n: number): Song[] {
  const r = mulberry32(3);
  return Array.from({ length: n }, (_, i) => {
    const k = 1 + Math.floor(r() ** 3 * 40);
    return { id: `s${i}`, x: [], y: Array.from({ length: k }, (_, j) => j) };
  });
}

describe('split by song', () => {
  const all = songs(1000);
  const p = { seed: 42, validationShare: 0.15, testShare: 0.15 };

  it('puts every song in exactly one split, in the stated shares', () => {
    const s = splitBySong(all, p);
    const ids = [...s.train, ...s.validation, ...s.test].map((x) => x.id);
    expect(new Set(ids).size).toBe(1000);
    expect(ids.length).toBe(1000);
    expect(Math.abs(s.test.length - 150)).toBeLessThanOrEqual(3);
    expect(Math.abs(s.validation.length - 150)).toBeLessThanOrEqual(3);
  });

  it('is deterministic from the seed and independent of input order', () => {
    const a = splitBySong(all, p);
    const b = splitBySong([...all].reverse(), p);
    const c = splitBySong(all, { ...p, seed: 43 });
    expect(b.test.map((x) => x.id)).toEqual(a.test.map((x) => x.id));
    expect(c.test.map((x) => x.id)).not.toEqual(a.test.map((x) => x.id));
  });

  it('keeps the share of wide hits similar across splits (stratified)', () => {
    const s = splitBySong(all, p);
    const wide = (xs: Song[]) => xs.filter((x) => x.y.length > 10).length / xs.length;
    expect(Math.abs(wide(s.test) - wide(s.train))).toBeLessThan(0.02);
  });

  it('rejects impossible shares', () => {
    expect(() => splitBySong(all, { seed: 1, validationShare: 0.5, testShare: 0.5 })).toThrow(/invalid split/);
  });
});
