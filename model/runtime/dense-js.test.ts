import { readFileSync } from 'node:fs';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManifestSchema } from '../contract/manifest.ts';
import { createJsDenseModel } from './dense-js.ts';
import {
  createDenseModel,
  type DenseLayerWeights,
  type DenseWeights,
  parseDenseModel,
  predictReference,
} from './dense-model.ts';
import { mulberry32 } from './prng.ts';
import { warmUpCheck } from './warm-up-check.ts';

const dir = new URL('../../public/models/default/', import.meta.url);
const bytes = readFileSync(new URL('weights.bin', dir));
const parsed = parseDenseModel(
  JSON.parse(readFileSync(new URL('model.json', dir), 'utf8')),
  bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
);
const manifest = ManifestSchema.parse(JSON.parse(readFileSync(new URL('manifest.json', dir), 'utf8')));

function randomLayer(rand: () => number, inputs: number, units: number, activation: DenseLayerWeights['activation']) {
  return {
    inputs,
    units,
    activation,
    kernel: Float32Array.from({ length: inputs * units }, () => rand() - 0.5),
    bias: Float32Array.from({ length: units }, () => rand() - 0.5),
  };
}

describe('plain-JS dense model', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('matches tfjs and the float64 reference on the shipped model, for one row and many', () => {
    if (!parsed.ok) throw new Error(parsed.message);
    const w = parsed.value;
    const js = createJsDenseModel(w);
    const tfModel = createDenseModel(w);
    const rand = mulberry32(7);
    const rows = 33;
    // Raw feature scales (duration in ms, tempo in BPM, loudness in dB) go through the folded input scaling.
    const x = Float32Array.from({ length: rows * 13 }, (_, i) => {
      const f = i % 13;
      return f === 1 ? 120_000 + rand() * 200_000 : f === 12 ? 60 + rand() * 120 : f === 5 ? -20 + rand() * 18 : rand();
    });
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
    if (!parsed.ok) throw new Error(parsed.message);
    const report = await warmUpCheck(createJsDenseModel(parsed.value), manifest.parity);
    expect(report.ok).toBe(true);
  });

  it('runs deeper stacks and linear layers like the reference', () => {
    const rand = mulberry32(3);
    const layers = [
      randomLayer(rand, 13, 9, 'relu'),
      randomLayer(rand, 9, 7, 'linear'),
      randomLayer(rand, 7, 11, 'relu'),
      randomLayer(rand, 11, 5, 'sigmoid'),
    ];
    const w: DenseWeights = { layers, inputSize: 13, outputSize: 5 };
    const x = Float32Array.from({ length: 2 * 13 }, () => rand() * 2 - 1);
    const got = createJsDenseModel(w).predictSync(x, 2);
    for (const r of [0, 1]) {
      const ref = predictReference(w, x.subarray(r * 13, (r + 1) * 13));
      for (let j = 0; j < 5; j++) expect(Math.abs(got[r * 5 + j]! - ref[j]!)).toBeLessThan(1e-6);
    }
  });

  it('refuses a wrong input length and use after dispose', () => {
    if (!parsed.ok) throw new Error(parsed.message);
    const js = createJsDenseModel(parsed.value);
    expect(() => js.predictSync(new Float32Array(12), 1)).toThrow(/expected 1×13/);
    js.dispose();
    expect(() => js.predictSync(new Float32Array(13), 1)).toThrow(/disposed/);
  });
});
