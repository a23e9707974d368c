import { describe, expect, it } from 'vitest';
import { type DenseWeights, predictReference } from '../runtime/dense-model.ts';
import { combineMembers, storedParameters } from './ensemble.ts';
import { mulberry32 } from './prng.ts';

function net(seed: number, hidden: number[]): DenseWeights {
  const r = mulberry32(seed);
  const sizes = [13, ...hidden, 72];
  return {
    inputSize: 13,
    outputSize: 72,
    layers: sizes.slice(1).map((units, i) => ({
      inputs: sizes[i] as number,
      units,
      kernel: Float32Array.from({ length: (sizes[i] as number) * units }, () => r() - 0.5),
      bias: Float32Array.from({ length: units }, () => r() - 0.5),
      activation: i === hidden.length ? ('sigmoid' as const) : ('relu' as const),
    })),
  };
}

const logit = (p: number) => Math.log(p / (1 - p));

describe('ensemble folding', () => {
  it('one combined network computes sigmoid of the mean member logit', () => {
    const members = [net(1, [6, 5]), net(2, [6, 5]), net(3, [6, 5])];
    const combined = combineMembers(members);
    expect(combined.layers.map((l) => [l.inputs, l.units])).toEqual([
      [13, 18],
      [18, 15],
      [15, 72],
    ]);
    expect(storedParameters(combined)).toBe(13 * 18 + 18 + 18 * 15 + 15 + 15 * 72 + 72);
    const r = mulberry32(7);
    for (let t = 0; t < 5; t++) {
      const x = Array.from({ length: 13 }, () => r() * 2 - 1);
      const got = predictReference(combined, x);
      const outs = members.map((m) => predictReference(m, x));
      for (let j = 0; j < 72; j++) {
        const meanLogit = outs.reduce((a, o) => a + logit(o[j] as number), 0) / members.length;
        expect(got[j]).toBeCloseTo(1 / (1 + Math.exp(-meanLogit)), 5);
      }
    }
  });

  it('is the member itself for one member, and refuses mixed shapes', () => {
    const a = net(1, [4]);
    expect(combineMembers([a])).toBe(a);
    expect(() => combineMembers([a, net(2, [5])])).toThrow(/one architecture/);
    expect(() => combineMembers([])).toThrow(/at least one/);
  });
});
