import { describe, expect, it } from 'vitest';
import { bootstrapMacroAuc, computeMetrics, macroAuc, reliabilityTable, topK } from './metrics.ts';
import { mulberry32 } from './prng.ts';

describe('metrics', () => {
  it('averages AUC over the columns that have both classes', () => {
    // 3 rows × 2 columns; column 1 has no positive and is skipped.
    const p = [0.9, 0.1, 0.2, 0.1, 0.5, 0.1];
    const y = [1, 0, 0, 0, 1, 0];
    expect(macroAuc(p, y, 3, 2)).toBe(1);
  });

  it('top-5 hit, precision and recall at 5, Brier', () => {
    const cols = 6;
    // Row 0: positive at column 5, ranked 1st. Row 1: positives 0 and 1, ranked last two.
    const p = [0.1, 0.2, 0.3, 0.4, 0.5, 0.9, 0.1, 0.2, 0.9, 0.8, 0.7, 0.6];
    const y = [0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0];
    expect(topK(p, 1, cols, 2)).toEqual([2, 3]);
    const m = computeMetrics(p, y, 2, cols);
    expect(m.top5Hit).toBe(1); // row 1's top 5 includes column 1 (0.2 > 0.1)
    expect(m.precisionAt5).toBeCloseTo((1 / 5 + 1 / 5) / 2, 12);
    expect(m.recallAt5).toBeCloseTo((1 + 1 / 2) / 2, 12);
    const brier = p.reduce((a, v, i) => a + (v - (y[i] as number)) ** 2, 0) / 12;
    expect(m.brier).toBeCloseTo(brier, 12);
  });

  it('bins predictions for the reliability table', () => {
    const t = reliabilityTable([0.05, 0.07, 0.95, 1], [0, 1, 1, 1], 10);
    expect(t).toHaveLength(10);
    expect(t[0]).toMatchObject({ count: 2, observedRate: 0.5 });
    expect(t[0]?.meanPredicted).toBeCloseTo(0.06, 12);
    expect(t[9]).toMatchObject({ count: 2, observedRate: 1 });
    expect(t[5]).toMatchObject({ count: 0, meanPredicted: null });
  });
});

describe('bootstrap intervals', () => {
  it('brackets the point estimate, is reproducible, and pairs the differences', () => {
    const rows = 120;
    const cols = 3;
    const r = mulberry32(2);
    const y = Float32Array.from({ length: rows * cols }, () => (r() < 0.3 ? 1 : 0));
    const good = Float32Array.from(y, (v) => v * 0.5 + r() * 0.7);
    const noise = Float32Array.from(y, () => r());
    const a = bootstrapMacroAuc({ good, noise }, 'noise', y, rows, cols, 100, 1);
    const b = bootstrapMacroAuc({ good, noise }, 'noise', y, rows, cols, 100, 1);
    expect(a).toEqual(b);
    const point = macroAuc(good, y, rows, cols);
    expect(a.intervals.good!.lo).toBeLessThan(point);
    expect(a.intervals.good!.hi).toBeGreaterThan(point);
    expect(a.differences.good!.lo).toBeGreaterThan(0); // clearly better than noise in every resample
    expect(a.differences).not.toHaveProperty('noise');
  });
});
