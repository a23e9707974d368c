import { describe, expect, it } from 'vitest';
import type { Activation, DenseWeights } from '../runtime/dense-model.ts';
import { foldWeighted, logitsOf, recipeParameters } from './candidates.ts';
import { mulberry32 } from './prng.ts';

function net(hidden: readonly number[], act: Activation, seed: number): DenseWeights {
  const r = mulberry32(seed);
  const sizes = [13, ...hidden, 72];
  const layers = sizes.slice(1).map((units, i) => ({
    inputs: sizes[i] as number,
    units,
    kernel: Float32Array.from({ length: (sizes[i] as number) * units }, () => r() - 0.5),
    bias: Float32Array.from({ length: units }, () => r() - 0.5),
    activation: (i === hidden.length ? 'sigmoid' : act) as Activation,
  }));
  return { layers, inputSize: 13, outputSize: 72 };
}

describe('recipes folded into one relu stack', () => {
  it('computes Σ weight · logit of networks of different depths and activations exactly', () => {
    const nets = [
      { weights: net([16, 8], 'relu', 1), weight: 0.25 },
      { weights: net([16, 8], 'relu', 2), weight: 0.25 },
      { weights: net([], 'relu', 3), weight: 0.3 }, // logistic regression
      { weights: net([4], 'linear', 4), weight: 0.2 }, // low rank
    ];
    const folded = foldWeighted(nets);
    expect(folded.layers.map((l) => l.activation)).toEqual(['relu', 'relu', 'sigmoid']);
    // hidden 1: 16 + 16 + 26 (± inputs) + 8 (± rank 4); hidden 2: 8 + 8 + 26 + 8 (identity pass-through)
    expect(folded.layers.map((l) => l.units)).toEqual([66, 50, 72]);
    const r = mulberry32(9);
    const rows = 20;
    const x = Float32Array.from({ length: rows * 13 }, () => (r() - 0.5) * 6);
    const got = logitsOf(folded, x, rows);
    const want = new Float64Array(rows * 72);
    for (const n of nets) {
      const z = logitsOf(n.weights, x, rows);
      for (let i = 0; i < z.length; i++) want[i] = (want[i] as number) + n.weight * (z[i] as number);
    }
    let max = 0;
    for (let i = 0; i < want.length; i++) max = Math.max(max, Math.abs((got[i] as number) - (want[i] as number)));
    expect(max).toBeLessThan(1e-5);
  });

  it('counts the real parameters of a recipe, without block-diagonal zeros', () => {
    const p = { hidden: [128, 64], members: 3 } as never;
    expect(recipeParameters({ name: 'n', description: '', parts: [{ params: p, weight: 1 }] })).toBe(
      3 * (13 * 128 + 128 + 128 * 64 + 64 + 64 * 72 + 72),
    );
  });
});
