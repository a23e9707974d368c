import { describe, expect, it } from 'vitest';
import {
  assignFolds,
  correctedInterval,
  cvFolds,
  pairedDifference,
  tQuantile975,
  verdictOf,
} from './cross-validate.ts';
import { mulberry32 } from './prng.ts';
import { STRATA_UPPER } from './split.ts';
import type { Song } from './targets.ts';

function songs(n: number, seed = 1): Song[] {
  const r = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => {
    const spread = [1, 2, 5, 20, 50][Math.floor(r() * 5)] as number;
    const y = [...new Set(Array.from({ length: spread }, () => Math.floor(r() * 72)))].sort((a, b) => a - b);
    return { id: `s${String(i).padStart(4, '0')}`, x: Array.from({ length: 13 }, () => r()), y };
  });
}
const stratum = (s: Song) => STRATA_UPPER.findIndex((u) => s.y.length <= u);

describe('song-grouped repeated k-fold', () => {
  it('puts every song in exactly one test fold per repeat, strata evenly, independent of input order', () => {
    const all = songs(203);
    const a = assignFolds(all, 5, 3, 42);
    expect(a).toHaveLength(3);
    for (const rep of a) {
      const sizes = [0, 1, 2, 3, 4].map((f) => rep.filter((x) => x === f).length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      for (let g = 0; g < STRATA_UPPER.length; g++) {
        const per = [0, 1, 2, 3, 4].map((f) => all.filter((s, i) => stratum(s) === g && rep[i] === f).length);
        expect(Math.max(...per) - Math.min(...per)).toBeLessThanOrEqual(1);
      }
    }
    expect(a[0]).not.toEqual(a[1]);
    const reversed = [...all].reverse();
    const b = assignFolds(reversed, 5, 3, 42);
    const byId = (x: number[][], list: Song[]) => new Map(list.map((s, i) => [s.id, x.map((r) => r[i])]));
    expect(byId(b, reversed)).toEqual(byId(a, all));
  });

  it('never lets a fold test song into its training or early-stopping songs', () => {
    const all = songs(120);
    const folds = cvFolds(all, { folds: 4, repeats: 2, innerValidationShare: 0.2 }, 7);
    expect(folds).toHaveLength(8);
    for (const f of folds) {
      const test = new Set(f.test.map((s) => s.id));
      expect(f.train.some((s) => test.has(s.id)) || f.validation.some((s) => test.has(s.id))).toBe(false);
      expect(f.train.length + f.validation.length + f.test.length).toBe(120);
      expect(f.validation.length).toBeGreaterThan(15);
    }
  });

  it('widens the interval by the Nadeau–Bengio correction', () => {
    expect(tQuantile975(4)).toBe(2.776);
    const i = correctedInterval([1, 2, 3, 4, 5], 0.25);
    expect(i.mean).toBe(3);
    expect(i.hi - i.mean).toBeCloseTo(2.776 * Math.sqrt((1 / 5 + 0.25) * 2.5), 10);
    expect(verdictOf(i)).toBe('better');
    expect(verdictOf(correctedInterval([-1, 1, -1, 1], 0.25))).toBe('tie');
    expect(verdictOf(correctedInterval([-3, -2, -3, -2], 0.25))).toBe('worse');
  });

  it('pairs the difference per fold', () => {
    const fold = (a: number, b: number) => ({
      repeat: 0,
      fold: 0,
      trainSongs: 80,
      validationSongs: 0,
      testSongs: 20,
      epochs: {},
      scores: { a: { macroAuc: a, top5Hit: a }, b: { macroAuc: b, top5Hit: b } },
    });
    // b swings widely from fold to fold but a is always 0.01 above it: paired, that is a clear advantage.
    const d = pairedDifference([fold(0.61, 0.6), fold(0.81, 0.8), fold(0.71, 0.7), fold(0.66, 0.65)], 'a', 'b');
    expect(d.macroAuc.mean).toBeCloseTo(0.01, 12);
    expect(d.macroAuc.hi - d.macroAuc.lo).toBeLessThan(1e-9);
  });
});
