import { describe, expect, it } from 'vitest';
import { predictReference } from '../../../../model/runtime/dense-model.ts';
import { MEANS, makeTinyModel, STDS } from '../../../../model/testing/tiny-model.ts';
import { shapleyAttributions } from './shapley.ts';

describe('shapleyAttributions', () => {
  it('gives the exact contributions of a linear function', async () => {
    const w = [2, -1, 0.5, 0];
    const f = (x: Float32Array, rows: number) =>
      Array.from({ length: rows }, (_, r) => w.reduce((s, wi, i) => s + wi * x[r * 4 + i]!, 0));
    const a = await shapleyAttributions(f, [1, 2, 3, 4], [0, 0, 0, 0], { permutations: 8 });
    expect(a.values[0]).toBeCloseTo(2, 5);
    expect(a.values[1]).toBeCloseTo(-2, 5);
    expect(a.values[2]).toBeCloseTo(1.5, 5);
    expect(a.values[3]).toBeCloseTo(0, 9);
  });

  it('sums to f(x) − f(baseline) on a real dense model, for every country tried', async () => {
    const tiny = await makeTinyModel(5);
    const x = MEANS.map((m, i) => m + STDS[i]! * (i % 2 ? 1.2 : -0.8));
    for (const country of [0, 17, 71]) {
      // Float64 reference forward pass: the sum property then holds to rounding error.
      const f = (buf: Float32Array, rows: number) =>
        Array.from(
          { length: rows },
          (_, r) => predictReference(tiny.weights, buf.subarray(r * 13, (r + 1) * 13))[country]!,
        );
      const a = await shapleyAttributions(f, x, MEANS, { permutations: 16, seed: country + 1 });
      const sum = a.values.reduce((s, v) => s + v, 0);
      const fx = predictReference(tiny.weights, Float32Array.from(x))[country]!;
      const fb = predictReference(tiny.weights, Float32Array.from(MEANS))[country]!;
      expect(Math.abs(sum - (fx - fb))).toBeLessThan(1e-6);
      expect(a.prediction).toBeCloseTo(fx, 6);
      expect(a.baselinePrediction).toBeCloseTo(fb, 6);
    }
  });

  it('credits interacting features symmetrically (f = x0·x1)', async () => {
    const f = (x: Float32Array, rows: number) => Array.from({ length: rows }, (_, r) => x[r * 2]! * x[r * 2 + 1]!);
    const a = await shapleyAttributions(f, [1, 1], [0, 0], { permutations: 2 });
    expect(a.values[0]).toBeCloseTo(0.5, 9);
    expect(a.values[1]).toBeCloseTo(0.5, 9);
  });

  it('rejects a baseline of the wrong length', async () => {
    await expect(shapleyAttributions(() => [0], [1, 2], [0])).rejects.toThrow(/baseline/);
  });
});
