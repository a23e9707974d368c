import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { DEVICE_PARITY_TOLERANCE } from '../contract/manifest.ts';
import { makeTinyModel } from '../testing/tiny-model.ts';
import { createDenseModel, parseDenseModel } from './dense-model.ts';
import { warmUpCheck } from './warm-up-check.ts';

describe('warmUpCheck', () => {
  it('passes the model its manifest describes and refuses wrong reference outputs', async () => {
    const tiny = await makeTinyModel();
    const parsed = parseDenseModel(
      JSON.parse(new TextDecoder().decode(tiny.files['model.json'])),
      tiny.files['weights.bin']!.slice().buffer,
    );
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

describe('warmUpCheck tolerance', () => {
  it('never checks tighter than DEVICE_PARITY_TOLERANCE, whatever the manifest says', async () => {
    const tiny = await makeTinyModel();
    const model = createDenseModel(tiny.weights);
    const shift = (d: number) => ({
      ...tiny.manifest.parity,
      tolerance: 1e-9,
      outputs: tiny.manifest.parity.outputs.map((r) => r.map((v) => v + d)),
    });
    // A backend rounding a little differently passes at the floor…
    expect((await warmUpCheck(model, shift(DEVICE_PARITY_TOLERANCE / 2))).ok).toBe(true);
    // …and one off by more than the floor is refused, reporting the tolerance it used.
    const off = await warmUpCheck(model, shift(DEVICE_PARITY_TOLERANCE * 3));
    expect(off.ok || off.code).toBe('parity-failed');
    expect(off.ok || off.details).toMatchObject({ tolerance: DEVICE_PARITY_TOLERANCE });
    model.dispose();
  });
});
