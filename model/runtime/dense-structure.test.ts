import { describe, expect, it } from 'vitest';
import type { DenseLayerWeights } from './dense-model.ts';
import { macsPerSong, panelSpans, rowSpans } from './dense-structure.ts';
import { shippedModel } from './testing/kernel-fixtures.ts';

const layer = (inputs: number, units: number, nonZero: (r: number, j: number) => boolean): DenseLayerWeights => {
  const kernel = new Float32Array(inputs * units);
  for (let r = 0; r < inputs; r++) for (let j = 0; j < units; j++) if (nonZero(r, j)) kernel[r * units + j] = 0.5;
  return { inputs, units, kernel, bias: new Float32Array(units), activation: 'relu' };
};

describe('where a folded stack has its weights', () => {
  it('finds each panel’s and each row’s span in a block-diagonal layer', () => {
    // Two members: rows 0–9 feed units 0–15, rows 10–19 feed units 16–31; unit 33's panel has no weights.
    const l = layer(20, 40, (r, j) => j < 32 && r < 10 === j < 16);
    expect(panelSpans(l)).toEqual([
      [0, 10],
      [0, 10],
      [10, 20],
      [10, 20],
      [0, 0],
    ]);
    const rows = rowSpans(l);
    expect([rows[0], rows[1]]).toEqual([0, 16]);
    expect([rows[2 * 15], rows[2 * 15 + 1]]).toEqual([16, 32]);
  });

  it('counts the real multiply-adds of the shipped 3-member model: less than half of the stored weights', () => {
    const { weights } = shippedModel();
    const m = macsPerSong(weights);
    const stored = weights.layers.reduce((a, l) => a + l.inputs * l.units, 0);
    expect(m.dense).toBe(stored);
    // 13×384 and 192×72 are dense; 384×192 is three 128×64 blocks.
    const [first, second, last] = weights.layers as [DenseLayerWeights, DenseLayerWeights, DenseLayerWeights];
    if (weights.layers.length === 3 && second.units % 3 === 0 && second.inputs === first.units) {
      expect(m.structured).toBe(
        first.inputs * first.units + (second.inputs * second.units) / 3 + last.inputs * last.units,
      );
    }
    expect(m.structured).toBeLessThan(m.dense / 2);
  });
});
