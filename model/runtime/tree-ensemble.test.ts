import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createJsDenseModel } from './dense-js.ts';
import { createDenseModel, type DenseWeights, predictReference } from './dense-model.ts';
import {
  addTreeLogits,
  concatTrees,
  decodeTrees,
  encodeTrees,
  mapTreeValues,
  type TreeEnsemble,
  treeOpsPerSong,
  withTrees,
} from './tree-ensemble.ts';

/**
 * Two inputs, three outputs. Tree 0 is a one-leaf base; tree 1 splits input 0 at 0.5, then (left) input 1 at
 * −1. Leaves: 0 base, 1 (x0 < 0.5, x1 < −1), 2 (x0 < 0.5, x1 ≥ −1), 3 (x0 ≥ 0.5).
 */
function smallTrees(): TreeEnsemble {
  return {
    inputs: 2,
    outputs: 3,
    roots: Int32Array.from([0, 1]),
    feature: Int32Array.from([-1, 0, 1, -1, -1, -1]),
    threshold: Float32Array.from([0, 0.5, -1, 0, 0, 0]),
    left: Int32Array.from([0, 2, 3, 1, 2, 3]),
    right: Int32Array.from([0, 5, 4, 0, 0, 0]),
    values: Float32Array.from([0.1, 0.2, 0.3, 1, 0, 0, 0, 2, 0, 0, 0, 3]),
  };
}

const logits = (t: TreeEnsemble, x: number[]) => {
  const out = new Float64Array(t.outputs);
  addTreeLogits(t, x, 1, out);
  return Array.from(out);
};

describe('tree ensemble', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('sends a song down each tree by input < threshold and adds the leaves it reaches', () => {
    const t = smallTrees();
    expect(logits(t, [0, -2])).toEqual([1.1, 0.2, 0.3].map((v) => expect.closeTo(v, 6)));
    expect(logits(t, [0, -1])).toEqual([0.1, 2.2, 0.3].map((v) => expect.closeTo(v, 6)));
    // Exactly at the threshold goes right.
    expect(logits(t, [0.5, -5])).toEqual([0.1, 0.2, 3.3].map((v) => expect.closeTo(v, 6)));
    expect(treeOpsPerSong(t)).toEqual({ comparisons: 2, adds: 6, depth: 2 });
  });

  it('round-trips through trees.bin and refuses damaged files with a reason', () => {
    const t = smallTrees();
    const bytes = encodeTrees(t);
    const back = decodeTrees(bytes, 2, 3);
    expect(back.ok).toBe(true);
    if (back.ok) expect(logits(back.value, [0.2, 0])).toEqual(logits(t, [0.2, 0]));

    const reason = (b: Uint8Array, inputs = 2, outputs = 3) => {
      const r = decodeTrees(b, inputs, outputs);
      return r.ok ? 'ok' : String((r.details as { reason?: string }).reason);
    };
    expect(reason(bytes.slice(0, 10))).toMatch(/shorter than its header/);
    expect(reason(bytes.slice(0, bytes.length - 4))).toMatch(/bytes, expected/);
    expect(reason(bytes, 13, 72)).toMatch(/made for 2 inputs × 3 outputs/);
    const magic = bytes.slice();
    magic[0] = 0;
    expect(reason(magic)).toMatch(/magic/);
    // A child pointing back at its parent would loop forever on a device.
    const cycle = encodeTrees({ ...t, right: Int32Array.from([0, 1, 4, 0, 0, 0]) });
    expect(reason(cycle)).toMatch(/node 1 has a bad input or child/);
    const leaf = encodeTrees({ ...t, left: Int32Array.from([0, 2, 3, 9, 2, 3]) });
    expect(reason(leaf)).toMatch(/leaf 3 points outside/);
    const nan = encodeTrees({ ...t, values: t.values.map((v, i) => (i === 4 ? Number.NaN : v)) });
    expect(reason(nan)).toMatch(/leaf value is not finite/);
  });

  it('joins ensembles as a weighted sum and scales leaf values', () => {
    const t = smallTrees();
    const joined = concatTrees([
      { trees: t, weight: 0.25 },
      { trees: t, weight: 0.5 },
    ]);
    const x = [0.1, -3];
    expect(logits(joined, x)).toEqual(logits(t, x).map((v) => expect.closeTo(0.75 * v, 6)));
    expect(
      logits(
        mapTreeValues(t, (v) => 2 * v),
        x,
      ),
    ).toEqual(logits(t, x).map((v) => expect.closeTo(2 * v, 6)));
  });

  it('runs a stack with trees on any backend through withTrees, as the float64 reference does', async () => {
    const t = smallTrees();
    const w: DenseWeights = {
      inputSize: 2,
      outputSize: 3,
      layers: [
        {
          inputs: 2,
          units: 3,
          kernel: Float32Array.from([0.5, -0.25, 1, 0.75, 0.5, -1]),
          bias: Float32Array.from([0.1, 0, -0.2]),
          activation: 'sigmoid',
        },
      ],
      trees: t,
    };
    const x = Float32Array.from([0, -2, 0.7, 0.3, 0.2, -0.5]);
    const expected = [0, 1, 2].flatMap((r) => Array.from(predictReference(w, x.subarray(2 * r, 2 * r + 2))));
    for (const place of [createDenseModel, createJsDenseModel]) {
      const m = await withTrees(w, async (dense) => place(dense));
      const y = await m.predict(x, 3);
      expect(Array.from(y)).toEqual(expected.map((v) => expect.closeTo(v, 6)));
      m.dispose();
    }
    // Without trees the reference is a different model: the trees really count.
    const plain = predictReference({ ...w, trees: undefined }, x.subarray(0, 2));
    expect(Math.abs((plain[0] as number) - (expected[0] as number))).toBeGreaterThan(0.1);
    // A runner handed the trees directly refuses rather than dropping them.
    expect(() => createDenseModel(w)).toThrow(/withTrees/);
    expect(() => createJsDenseModel(w)).toThrow(/withTrees/);
  });
});
