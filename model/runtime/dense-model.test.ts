import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDenseModel, parseDenseModel, predictReference } from './dense-model.ts';

async function exportSmallModel() {
  const m = tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [13], units: 8, activation: 'relu', kernelInitializer: 'glorotUniform' }),
      tfl.layers.dropout({ rate: 0.2 }),
      tfl.layers.dense({ units: 72, activation: 'sigmoid' }),
    ],
  });
  let modelJson: unknown;
  let weights: ArrayBuffer | undefined;
  await m.save(
    tf.io.withSaveHandler(async (a) => {
      modelJson = {
        modelTopology: a.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
      };
      weights = a.weightData as ArrayBuffer;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return { m, modelJson, weights: weights! };
}

describe('dense model loader', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('reproduces the tfjs-layers model it was saved from, and leaks no tensors', async () => {
    const { m, modelJson, weights } = await exportSmallModel();
    const parsed = parseDenseModel(modelJson, weights);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.inputSize).toBe(13);
    expect(parsed.value.outputSize).toBe(72);

    const rows = 5;
    const x = Float32Array.from({ length: rows * 13 }, (_, i) => Math.sin(i));
    const expected = (m.predict(tf.tensor2d(x, [rows, 13])) as tf.Tensor).dataSync();

    const before = tf.memory().numTensors;
    const model = createDenseModel(parsed.value);
    const got = await model.predict(x, rows);
    const gotSync = model.predictSync(x, rows);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);

    let maxDiff = 0;
    for (let i = 0; i < expected.length; i++) maxDiff = Math.max(maxDiff, Math.abs((got[i] ?? 0) - (expected[i] ?? 0)));
    expect(maxDiff).toBeLessThan(1e-6);
    expect(Array.from(gotSync)).toEqual(Array.from(got));

    const ref = predictReference(parsed.value, x.subarray(0, 13));
    for (let j = 0; j < 72; j++) expect(Math.abs((ref[j] ?? 0) - (got[j] ?? 0))).toBeLessThan(1e-5);
  });

  it('refuses truncated weights and unknown layers with a reason', async () => {
    const { modelJson, weights } = await exportSmallModel();
    const truncated = parseDenseModel(modelJson, weights.slice(0, weights.byteLength - 4));
    expect(truncated.ok).toBe(false);
    if (!truncated.ok) expect(truncated.code).toBe('model-load-failed');

    const odd = JSON.parse(JSON.stringify(modelJson));
    odd.modelTopology.config.layers[0].class_name = 'Conv2D';
    const r = parseDenseModel(odd, weights);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(JSON.stringify(r.details)).toContain('Conv2D');

    expect(parseDenseModel({}, weights).ok).toBe(false);
  });
});
