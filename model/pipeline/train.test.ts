import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from './backend.ts';
import { mulberry32 } from './prng.ts';
import { countParameters, positiveWeights, smoothLabels, type TrainParams, trainNetwork } from './train.ts';

const K = 72;

/** Labels that depend non-linearly on two standardised features, for 8 countries. */
function data(rows: number, seed: number) {
  const r = mulberry32(seed);
  const x = new Float32Array(rows * 13);
  const y = new Float32Array(rows * K);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < 13; j++) x[i * 13 + j] = (r() - 0.5) * 3;
    for (let c = 0; c < 8; c++) {
      const a = x[i * 13 + (c % 13)] as number;
      const b = x[i * 13 + ((c + 3) % 13)] as number;
      y[i * K + c] = a * a + b > 1 ? 1 : 0;
    }
  }
  return { x, y, rows };
}

const params: TrainParams = {
  hidden: [16],
  dropout: 0.2,
  l2: 0,
  learningRate: 1e-2,
  batchSize: 32,
  maxEpochs: 4,
  patience: 10,
  positiveWeighting: 'sqrt',
  maxPositiveWeight: 5,
  softmaxWeight: 0,
  seed: 11,
};

const digest = (w: Awaited<ReturnType<typeof trainNetwork>>['weights']) => {
  const h = createHash('sha256');
  for (const l of w.layers) h.update(new Uint8Array(l.kernel.buffer)).update(new Uint8Array(l.bias.buffer));
  return h.digest('hex');
};

beforeAll(async () => {
  await useBackend('wasm');
});

describe('train', () => {
  const train = data(256, 1);
  const val = data(96, 2);

  it('gives byte-identical weights for the same data and seed, different ones for another seed', async () => {
    const before = tf.memory().numTensors;
    const a = await trainNetwork(train, val, params);
    const b = await trainNetwork(train, val, params);
    const c = await trainNetwork(train, val, { ...params, seed: 12 });
    expect(digest(a.weights)).toBe(digest(b.weights));
    expect(a.history.map((h) => h.loss)).toEqual(b.history.map((h) => h.loss));
    expect(digest(c.weights)).not.toBe(digest(a.weights));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('learns (validation AUC well above chance), stops early and restores the best epoch', async () => {
    const r = await trainNetwork(train, val, { ...params, maxEpochs: 40, patience: 3 });
    expect(r.bestValidationMacroAuc).toBeGreaterThan(0.7);
    expect(r.history.length).toBeLessThanOrEqual(40);
    const best = Math.max(...r.history.map((h) => h.validationMacroAuc));
    expect(r.bestValidationMacroAuc).toBe(best);
    expect(r.history[r.bestEpoch - 1]?.validationMacroAuc).toBe(best);
    expect(r.parameters).toBe(countParameters([16]));
    expect(r.weights.layers.map((l) => [l.inputs, l.units, l.activation])).toEqual([
      [13, 16, 'relu'],
      [16, 72, 'sigmoid'],
    ]);
  });

  it('weights rare countries up by sqrt(neg/pos), capped, and not at all for none', () => {
    const y = new Float32Array(100 * K);
    for (let i = 0; i < 20; i++) y[i * K] = 1; // 20 % positive in country 0
    y[K + 1] = 1; // 1 % in country 1
    const w = positiveWeights(y, 100, { positiveWeighting: 'sqrt', maxPositiveWeight: 5 });
    expect(w[0]).toBeCloseTo(2, 12);
    expect(w[1]).toBe(5);
    expect(w[2]).toBe(5);
    expect(positiveWeights(y, 100, { positiveWeighting: 'none', maxPositiveWeight: 5 })[1]).toBe(1);
  });
});

describe('label smoothing', () => {
  it('moves each label toward its country’s base rate, not toward 0.5', () => {
    const rows = 10;
    const y = new Float32Array(rows * K);
    for (let r = 0; r < 2; r++) y[r * K] = 1; // country 0: 2 of 10 songs
    const s = smoothLabels(y, rows, 0.1);
    expect(s[0]).toBeCloseTo(0.9 + 0.1 * 0.2, 6);
    expect(s[2 * K]).toBeCloseTo(0.1 * 0.2, 6);
    // A country without positives stays at 0; the base rate per country is kept.
    expect(s[5]).toBe(0);
    let mean = 0;
    for (let r = 0; r < rows; r++) mean += s[r * K] as number;
    expect(mean / rows).toBeCloseTo(0.2, 6);
    expect(smoothLabels(y, rows, 0)).toBe(y);
  });
});
