import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createJsDenseModel } from './dense-js.ts';
import { createDenseModel, predictReference } from './dense-model.ts';
import { mulberry32 } from './prng.ts';
import { mixedStack, shippedModel, songRows } from './testing/kernel-fixtures.ts';
import { withTrees } from './tree-ensemble.ts';
import { warmUpCheck } from './warm-up-check.ts';

const { weights: shipped, model: shippedWithTrees, manifest } = shippedModel();

describe('plain-JS dense model', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('matches tfjs and the float64 reference on the shipped model, for one row and many', () => {
    const w = shipped;
    const js = createJsDenseModel(w);
    const tfModel = createDenseModel(w);
    const rows = 33;
    const x = songRows(mulberry32(7), rows);
    const got = js.predictSync(x, rows);
    const want = tfModel.predictSync(x, rows);
    expect(got.length).toBe(rows * 72);
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
    expect(worst).toBeLessThan(1e-5);
    for (const r of [0, 17, 32]) {
      const ref = predictReference(w, x.subarray(r * 13, (r + 1) * 13));
      for (let j = 0; j < 72; j++) expect(Math.abs(got[r * 72 + j]! - ref[j]!)).toBeLessThan(1e-5);
    }
    // One row at a time gives the same numbers as the batch (scratch buffers are reused between calls).
    for (const r of [32, 0])
      expect(Array.from(js.predictSync(x.slice(r * 13, (r + 1) * 13), 1))).toEqual(
        Array.from(got.subarray(r * 72, (r + 1) * 72)),
      );
    tfModel.dispose();
  });

  it('passes the manifest warm-up check of the shipped model', async () => {
    const report = await warmUpCheck(
      await withTrees(shippedWithTrees, async (stack) => createJsDenseModel(stack)),
      manifest.parity,
    );
    expect(report.ok).toBe(true);
  });

  it('runs deeper stacks and linear layers like the reference', () => {
    const rand = mulberry32(3);
    const w = mixedStack(rand);
    const x = Float32Array.from({ length: 2 * 13 }, () => rand() * 2 - 1);
    const got = createJsDenseModel(w).predictSync(x, 2);
    for (const r of [0, 1]) {
      const ref = predictReference(w, x.subarray(r * 13, (r + 1) * 13));
      for (let j = 0; j < 5; j++) expect(Math.abs(got[r * 5 + j]! - ref[j]!)).toBeLessThan(1e-6);
    }
  });

  it('refuses a wrong input length and use after dispose', () => {
    const js = createJsDenseModel(shipped);
    expect(() => js.predictSync(new Float32Array(12), 1)).toThrow(/expected 1×13/);
    js.dispose();
    expect(() => js.predictSync(new Float32Array(13), 1)).toThrow(/disposed/);
  });
});
