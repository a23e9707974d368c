import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDenseModel, predictReference } from './dense-model.ts';
import { createSimdDenseModel } from './dense-simd.ts';
import { compileDenseKernel } from './dense-simd-build.ts';
import { mulberry32 } from './prng.ts';
import { mixedStack, shippedModel, songRows as songs } from './testing/kernel-fixtures.ts';
import { withTrees } from './tree-ensemble.ts';
import { warmUpCheck } from './warm-up-check.ts';

const { weights: shipped, model: shippedWithTrees, manifest } = shippedModel();

const maxDiff = (a: Float32Array, b: Float32Array) => {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
};

describe('WebAssembly SIMD dense model', () => {
  let kernel: WebAssembly.Module;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    kernel = await WebAssembly.compile(await compileDenseKernel());
  });

  it('matches tfjs and the float64 reference on the shipped model, for every tile remainder', async () => {
    const w = shipped;
    const simd = await createSimdDenseModel(w, kernel);
    const tfModel = createDenseModel(w);
    const x = songs(mulberry32(7), 70);
    // 1–3 rows pad a tile to 4, 16 fills one, 17 and 70 leave short last tiles: all must equal the full batch.
    const all = simd.predictSync(x, 70);
    expect(maxDiff(all, tfModel.predictSync(x, 70))).toBeLessThan(1e-5);
    for (const rows of [1, 2, 3, 4, 5, 15, 16, 17, 33]) {
      const got = simd.predictSync(x.subarray(0, rows * 13), rows);
      expect(maxDiff(got, all.subarray(0, rows * 72))).toBe(0);
    }
    for (const r of [0, 17, 69]) {
      const ref = predictReference(w, x.subarray(r * 13, (r + 1) * 13));
      for (let j = 0; j < 72; j++) expect(Math.abs(all[r * 72 + j]! - ref[j]!)).toBeLessThan(1e-5);
    }
    tfModel.dispose();
  });

  it('skips a folded ensemble’s block-diagonal zeros without changing a single output', async () => {
    const x = songs(mulberry32(5), 257);
    const structured = (await createSimdDenseModel(shipped, kernel)).predictSync(x, 257);
    const everyRow = (await createSimdDenseModel(shipped, kernel, { structured: false })).predictSync(x, 257);
    expect(maxDiff(structured, everyRow)).toBe(0);
    // A mixed stack (odd widths, padded panels) through the structured layout still matches the reference.
    const mixed = mixedStack(mulberry32(4));
    const m = await createSimdDenseModel(mixed, kernel);
    const xm = songs(mulberry32(6), 9);
    const got = m.predictSync(xm, 9);
    for (let r = 0; r < 9; r++) {
      const ref = predictReference(mixed, xm.subarray(r * 13, (r + 1) * 13));
      for (let j = 0; j < mixed.outputSize; j++)
        expect(Math.abs(got[r * mixed.outputSize + j]! - ref[j]!)).toBeLessThan(1e-5);
    }
  });

  it('grows its memory for a big batch and still answers small calls the same afterwards', async () => {
    const simd = await createSimdDenseModel(shipped, kernel);
    const x = songs(mulberry32(11), 5000);
    const before = simd.predictSync(x.subarray(0, 13), 1);
    const big = simd.predictSync(x, 5000);
    expect(big.length).toBe(5000 * 72);
    expect(big.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(Array.from(simd.predictSync(x.subarray(0, 13), 1))).toEqual(Array.from(before));
    const ref = predictReference(shipped, x.subarray(4999 * 13));
    for (let j = 0; j < 72; j++) expect(Math.abs(big[4999 * 72 + j]! - ref[j]!)).toBeLessThan(1e-5);
  });

  it('passes the manifest warm-up check of the shipped model', async () => {
    const report = await warmUpCheck(
      await withTrees(shippedWithTrees, (stack) => createSimdDenseModel(stack, kernel)),
      manifest.parity,
    );
    expect(report.ok).toBe(true);
  });

  it('runs widths that are not multiples of 8, linear layers and extreme sigmoid inputs like the reference', async () => {
    const rand = mulberry32(3);
    const w = mixedStack(rand);
    // Big weights push the last layer's sums far past ±88, where exp over- or underflows in float32.
    const last = w.layers[3]!.kernel;
    for (let i = 0; i < last.length; i++) last[i]! *= 200;
    const x = Float32Array.from({ length: 6 * 13 }, () => rand() * 2 - 1);
    const got = (await createSimdDenseModel(w, kernel)).predictSync(x, 6);
    let saturated = 0;
    for (let r = 0; r < 6; r++) {
      const ref = predictReference(w, x.subarray(r * 13, (r + 1) * 13));
      for (let j = 0; j < 5; j++) {
        // Sums of hundreds carry float32 rounding of ~1e-5 into the sigmoid; saturated lanes must not be NaN.
        expect(got[r * 5 + j]! >= 0 && got[r * 5 + j]! <= 1).toBe(true);
        expect(Math.abs(got[r * 5 + j]! - ref[j]!)).toBeLessThan(1e-5);
        if (ref[j]! < 1e-9 || ref[j]! > 1 - 1e-9) saturated++;
      }
    }
    expect(saturated).toBeGreaterThan(0);
  });

  it('refuses a wrong input length and use after dispose', async () => {
    const simd = await createSimdDenseModel(shipped, kernel);
    expect(() => simd.predictSync(new Float32Array(12), 1)).toThrow(/expected 1×13/);
    simd.dispose();
    expect(() => simd.predictSync(new Float32Array(13), 1)).toThrow(/disposed/);
  });
});
