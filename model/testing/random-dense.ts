/**
 * A seeded random dense network (13 inputs → hidden layers → 72 sigmoid outputs) for tests of code that folds,
 * transforms or stacks dense weights; its values mean nothing, only the shapes and exactness matter.
 */
import { mulberry32 } from '../pipeline/prng.ts';
import type { Activation, DenseWeights } from '../runtime/dense-model.ts';

export function randomDenseNet(hidden: readonly number[], seed: number, act: Activation = 'relu'): DenseWeights {
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
