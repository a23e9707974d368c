import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type DenseWeights, parseDenseModel, predictReference } from '../runtime/dense-model.ts';
import { useBackend } from './backend.ts';
import { trainBoostedTrees } from './boosted-trees.ts';
import { applyCalibration } from './calibrate.ts';
import { BOOSTED_TREES, foldWeighted } from './candidates.ts';
import { predictInMemory } from './evaluate.ts';
import { exportLayersModel, foldScaler } from './export-model.ts';
import { checkParity, deviceParitySection, loadExported } from './parity.ts';
import { mulberry32 } from './prng.ts';
import { applyScaler, fitScaler } from './scaler.ts';

function randomWeights(hidden: number[], seed: number): DenseWeights {
  const r = mulberry32(seed);
  const sizes = [13, ...hidden, 72];
  const layers = sizes.slice(1).map((units, i) => ({
    inputs: sizes[i] as number,
    units,
    kernel: Float32Array.from({ length: (sizes[i] as number) * units }, () => (r() - 0.5) * 0.6),
    bias: Float32Array.from({ length: units }, () => (r() - 0.5) * 0.2),
    activation: (i === hidden.length ? 'sigmoid' : 'relu') as 'sigmoid' | 'relu',
  }));
  return { layers, inputSize: 13, outputSize: 72 };
}

function rawSongs(n: number): Float32Array {
  const r = mulberry32(9);
  const x = new Float32Array(n * 13);
  for (let i = 0; i < n; i++) {
    x.set(
      [
        r() < 0.3 ? 1 : 0,
        120000 + r() * 200000,
        r(),
        r(),
        Math.floor(r() * 12),
        -20 + r() * 18,
        r() < 0.5 ? 1 : 0,
        r() * 0.4,
        r(),
        r() * 0.2,
        r() * 0.5,
        r(),
        60 + r() * 120,
      ],
      i * 13,
    );
  }
  return x;
}

beforeAll(async () => {
  await useBackend('wasm');
});

describe('export with folded scaling', () => {
  const x = rawSongs(64);
  const scaler = fitScaler(x, 64, 13);
  const w = randomWeights([16, 8], 1);

  it('folded weights on raw inputs reproduce the network on standardised inputs', () => {
    const folded = foldScaler(w, scaler);
    const std = applyScaler(x, scaler);
    let maxDiff = 0;
    for (let i = 0; i < 64; i++) {
      const a = predictReference(w, std.subarray(i * 13, (i + 1) * 13));
      const b = predictReference(folded, x.subarray(i * 13, (i + 1) * 13));
      for (let j = 0; j < 72; j++) maxDiff = Math.max(maxDiff, Math.abs((a[j] as number) - (b[j] as number)));
    }
    expect(maxDiff).toBeLessThan(1e-5);
    // Scaling is really inside: the first layer changed, the others did not.
    expect(folded.layers[0]?.kernel).not.toEqual(w.layers[0]?.kernel);
    expect(folded.layers[1]?.kernel).toEqual(w.layers[1]?.kernel);
  });

  it('writes tfjs layers files the shared loader parses back to the same weights, and passes parity', async () => {
    const folded = foldScaler(w, scaler);
    const e = await exportLayersModel(folded, [16, 8], 0.2, 1);
    const json = JSON.parse(e.modelJson);
    expect(json.modelTopology.class_name).toBe('Sequential');
    expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
    expect(json.modelTopology.config.layers.map((l: { class_name: string }) => l.class_name)).toEqual([
      'Dense',
      'Dropout',
      'Dense',
      'Dropout',
      'Dense',
    ]);
    const back = loadExported(e);
    expect(back.layers.map((l) => l.activation)).toEqual(['relu', 'relu', 'sigmoid']);
    expect(Array.from(back.layers[2]!.kernel)).toEqual(Array.from(folded.layers[2]!.kernel));
    const inMemory = new Float32Array(64 * 72);
    for (let i = 0; i < 64; i++) inMemory.set(predictReference(folded, x.subarray(i * 13, (i + 1) * 13)), i * 72);
    const report = await checkParity(e, x, 64, inMemory);
    expect(report.passed).toBe(true);
    expect(report.maxAbsDiff).toBeLessThanOrEqual(1e-5);
    // A model that differs must fail parity.
    const off = inMemory.map((v, i) => (i === 5 ? v + 1e-3 : v));
    expect((await checkParity(e, x, 64, off)).passed).toBe(false);
    const section = await deviceParitySection(e, x, 64, 13);
    expect(section.inputs).toHaveLength(8);
    expect(section.outputs[0]).toHaveLength(72);
    expect(section.tolerance).toBe(1e-4);
    expect(tf.memory().numTensors).toBeLessThan(5);
  });

  it('exports a recipe with boosted trees as trees.bin beside the stack, on raw inputs, and passes parity', async () => {
    const std = applyScaler(x, scaler);
    const r = mulberry32(4);
    const y = Float32Array.from({ length: 64 * 72 }, (_, i) =>
      r() < 0.1 + 0.5 * ((std[Math.floor(i / 72) * 13 + 2] as number) > 0 ? 1 : 0) ? 1 : 0,
    );
    const grown = trainBoostedTrees({ x: std, y, rows: 64, raw: x }, null, { ...BOOSTED_TREES, minLeaf: 4 }, 3, 12);
    const mixed = applyCalibration(
      foldWeighted([
        { weights: { layers: [], inputSize: 13, outputSize: 72, trees: grown.trees }, weight: 0.7 },
        { weights: w, weight: 0.3 },
      ]),
      { shift: new Array(72).fill(0.1), a: 0.9, b: -0.2 },
    );
    const inMemory = predictInMemory(mixed, std, 64);
    const e = await exportLayersModel(foldScaler(mixed, scaler), [16, 8], 0.2, 1);
    expect(e.treesBin?.byteLength).toBeGreaterThan(0);
    const back = loadExported(e);
    expect(back.trees?.roots.length).toBe(13);
    const report = await checkParity(e, x, 64, inMemory);
    expect(report.maxAbsDiff).toBeLessThanOrEqual(1e-5);
    expect(report.passed).toBe(true);
    // The trees really count: the same files without trees.bin miss.
    const { treesBin: _t, ...stackOnly } = e;
    expect((await checkParity(stackOnly, x, 64, inMemory)).passed).toBe(false);
  });

  it('rejects weights the loader cannot parse', () => {
    expect(parseDenseModel({ modelTopology: {} }, new ArrayBuffer(8)).ok).toBe(false);
  });
});
