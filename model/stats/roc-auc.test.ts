import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rocAuc, sortedRocAuc } from './roc-auc.ts';

/** The definition, pair by pair: the weight of (positive, negative) pairs ranked right, ties counting half. */
function pairwiseAuc(scores: number[], labels: boolean[], weights: number[]): number | null {
  let num = 0;
  let den = 0;
  for (let i = 0; i < scores.length; i++) {
    if (!labels[i]) continue;
    for (let j = 0; j < scores.length; j++) {
      if (labels[j]) continue;
      const w = (weights[i] as number) * (weights[j] as number);
      den += w;
      const si = scores[i] as number;
      const sj = scores[j] as number;
      num += si > sj ? w : si === sj ? w / 2 : 0;
    }
  }
  return den > 0 ? num / den : null;
}

describe('rocAuc', () => {
  it('handles ties, both label types, and is null without both classes', () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75);
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [false, false, true, true])).toBe(0.75);
    expect(rocAuc([1, 2, 3], [0, 1, 1])).toBe(1);
    expect(rocAuc([3, 2, 1], [0, 1, 1])).toBe(0);
    expect(rocAuc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBe(0.5);
    expect(rocAuc([0.2, 0.3], [1, 1])).toBeNull();
    expect(rocAuc([0.1, 0.2], [true, true])).toBeNull();
  });

  // scipy 1.10.1: stats.mannwhitneyu(pos, neg).statistic / (len(pos) * len(neg)), ties included.
  it('equals scipy’s Mann–Whitney U / (n₁·n₀)', () => {
    const s = [0.1, 0.4, 0.35, 0.8, 0.7, 0.2, 0.9, 0.55, 0.35, 0.6];
    const l = [0, 0, 1, 1, 1, 0, 1, 0, 0, 1];
    expect(rocAuc(s, l)).toBeCloseTo(0.9, 12);
  });

  it('equals the pairwise definition on random scores with many ties', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.boolean()), { minLength: 0, maxLength: 40 }),
        (items) => {
          const scores = items.map(([s]) => s / 5);
          const labels = items.map(([, l]) => l);
          const got = rocAuc(scores, labels);
          const want = pairwiseAuc(
            scores,
            labels,
            scores.map(() => 1),
          );
          if (want === null) expect(got).toBeNull();
          else expect(got).toBeCloseTo(want, 12);
        },
      ),
    );
  });
});

describe('sortedRocAuc', () => {
  it('weights each item by its unit, as a bootstrap resample does', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.boolean(), fc.integer({ min: 0, max: 5 })), {
          maxLength: 30,
        }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 6, maxLength: 6 }),
        (items, unitWeights) => {
          const sorted = [...items].sort((a, b) => a[0] - b[0]);
          const scores = sorted.map(([s]) => s);
          const labels = sorted.map(([, l]) => l);
          const units = sorted.map(([, , u]) => u);
          const got = sortedRocAuc(scores, labels.map(Number), units, unitWeights);
          const want = pairwiseAuc(
            scores,
            labels,
            units.map((u) => unitWeights[u] as number),
          );
          if (want === null) expect(got).toBeNull();
          else expect(got).toBeCloseTo(want, 12);
        },
      ),
    );
  });

  it('gives a unit of weight 0 no say', () => {
    // Unit 1 (the misranked pair) is left out of this resample.
    expect(sortedRocAuc([0.1, 0.2, 0.3, 0.4], [0, 1, 0, 1], [0, 1, 1, 0], [1, 0])).toBe(1);
    expect(sortedRocAuc([0.1, 0.2, 0.3, 0.4], [0, 1, 0, 1], [0, 1, 1, 0], [1, 1])).toBe(0.75);
  });
});
