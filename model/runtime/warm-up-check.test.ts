import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { makeTinyModel } from '../testing/fixtures.ts';
import { createDenseModel, parseDenseModel } from './dense-model.ts';
import { warmUpCheck } from './warm-up-check.ts';

describe('warmUpCheck', () => {
  it('passes the model its manifest describes and refuses wrong reference outputs', async () => {
    const tiny = await makeTinyModel();
    const parsed = parseDenseModel(JSON.parse(new TextDecoder().decode(tiny.modelJson)), tiny.weights.slice().buffer);
    if (!parsed.ok) throw new Error(parsed.message);
    const before = tf.memory().numTensors;
    const model = createDenseModel(parsed.value);
    const good = await warmUpCheck(model, tiny.manifest.parity);
    expect(good.ok).toBe(true);
    if (good.ok) expect(good.value.maxAbsDiff).toBeLessThan(1e-5);

    const shifted = {
      ...tiny.manifest.parity,
      outputs: tiny.manifest.parity.outputs.map((r) => r.map((v) => v + 0.01)),
    };
    const bad = await warmUpCheck(model, shifted);
    expect(bad.ok || bad.code).toBe('parity-failed');
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
