import { describe, expect, it } from 'vitest';
import { randomDenseNet } from '../testing/random-dense.ts';
import { foldWeighted, logitsOf } from './candidates.ts';
import { foldScaler } from './export-model.ts';
import { mulberry32 } from './prng.ts';
import { applyQuantileTransform, fitQuantileTransform, prependTransform } from './quantile-transform.ts';
import { applyScaler, fitScaler } from './scaler.ts';

/** Columns like the real ones: skewed (most values near 0), binary, and a plain spread. */
function data(rows: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  const x = new Float32Array(rows * 13);
  for (let i = 0; i < rows; i++)
    for (let c = 0; c < 13; c++)
      x[i * 13 + c] = c === 0 ? (r() < 0.3 ? 1 : 0) : c === 1 ? (r() < 0.7 ? 0 : r() ** 4 * 5) : (r() - 0.5) * 4;
  return x;
}

describe('quantile transform', () => {
  it('is monotone, standardised on the training rows, and flat outside their range', () => {
    const rows = 400;
    const x = data(rows, 1);
    const q = fitQuantileTransform(x, rows, 13);
    const t = applyQuantileTransform(q, x, rows);
    for (let c = 0; c < 13; c++) {
      let mean = 0;
      for (let i = 0; i < rows; i++) mean += t[i * 13 + c] as number;
      mean /= rows;
      let sq = 0;
      for (let i = 0; i < rows; i++) sq += ((t[i * 13 + c] as number) - mean) ** 2;
      expect(Math.abs(mean)).toBeLessThan(1e-5);
      expect(Math.abs(Math.sqrt(sq / rows) - 1)).toBeLessThan(1e-4);
      const order = Array.from({ length: rows }, (_, i) => i).sort(
        (a, b) => (x[a * 13 + c] as number) - (x[b * 13 + c] as number),
      );
      for (let k = 1; k < rows; k++)
        expect(t[(order[k] as number) * 13 + c] as number).toBeGreaterThanOrEqual(
          (t[(order[k - 1] as number) * 13 + c] as number) - 1e-6,
        );
    }
    // Far outside the training range: the value at the nearest end.
    const far = new Float32Array(13 * 2);
    far.fill(-100, 0, 13);
    far.fill(100, 13);
    const ends = applyQuantileTransform(q, far, 2);
    const lo = Math.min(...Array.from({ length: rows }, (_, i) => t[i * 13 + 2] as number));
    const hi = Math.max(...Array.from({ length: rows }, (_, i) => t[i * 13 + 2] as number));
    expect(ends[2]).toBeCloseTo(lo, 5);
    expect(ends[13 + 2]).toBeCloseTo(hi, 5);
  });

  it('folds into a relu layer in front of the network exactly, also inside a folded ensemble', () => {
    const rows = 300;
    const x = data(rows, 2);
    const q = fitQuantileTransform(x, rows, 13);
    const w = randomDenseNet([16, 8], 3);
    const plain = randomDenseNet([16, 8], 4);
    const want = logitsOf(w, applyQuantileTransform(q, x, rows), rows);
    const folded = prependTransform(q, w);
    expect(folded.layers.length).toBe(w.layers.length + 1);
    const got = logitsOf(folded, x, rows);
    let max = 0;
    for (let i = 0; i < want.length; i++) max = Math.max(max, Math.abs((got[i] as number) - (want[i] as number)));
    expect(max).toBeLessThan(1e-4);
    // Beside a network without the transform (one layer shallower): Σ weight · logit still exact.
    const both = foldWeighted([
      { weights: folded, weight: 0.5 },
      { weights: plain, weight: 0.5 },
    ]);
    const z2 = logitsOf(plain, x, rows);
    const gotBoth = logitsOf(both, x, rows);
    max = 0;
    for (let i = 0; i < want.length; i++)
      max = Math.max(max, Math.abs((gotBoth[i] as number) - (0.5 * (want[i] as number) + 0.5 * (z2[i] as number))));
    expect(max).toBeLessThan(1e-4);
  });

  it('takes raw feature values once the scaler is folded in, as exported (durations in ms, skewed shares)', () => {
    const rows = 500;
    const r = mulberry32(7);
    const raw = new Float32Array(rows * 13);
    for (let i = 0; i < rows; i++)
      for (let c = 0; c < 13; c++)
        raw[i * 13 + c] =
          c === 1 ? 120_000 + r() * 200_000 : c === 9 ? (r() < 0.8 ? 0 : r() ** 6) : c === 5 ? -20 + r() * 18 : r();
    const scaler = fitScaler(raw, rows, 13);
    const std = applyScaler(raw, scaler);
    const q = fitQuantileTransform(std, rows, 13);
    const w = randomDenseNet([16, 8], 8);
    const want = logitsOf(w, applyQuantileTransform(q, std, rows), rows);
    const got = logitsOf(foldScaler(prependTransform(q, w), scaler), raw, rows);
    let max = 0;
    for (let i = 0; i < want.length; i++) max = Math.max(max, Math.abs((got[i] as number) - (want[i] as number)));
    expect(max).toBeLessThan(1e-4);
  });
});
