import { describe, expect, it } from 'vitest';
import { type FeatureDomain, searchCounterfactual } from './counterfactual.ts';

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const unit: FeatureDomain = { min: 0, max: 1, kind: 'number', scale: 0.2 };

/** p = sigmoid(w·x + b), one value per row. */
const logistic = (w: number[], b: number) => (x: Float32Array, rows: number) =>
  Array.from({ length: rows }, (_, r) => sigmoid(w.reduce((s, wi, i) => s + wi * x[r * w.length + i]!, b)));

describe('searchCounterfactual', () => {
  it('changes the one feature that matters, by about the least amount that reaches the target', async () => {
    // Only feature 1 matters: p ≥ 0.3 needs 4·x1 − 3 ≥ logit(0.3) ≈ −0.847 → x1 ≥ 0.538.
    const r = await searchCounterfactual(logistic([0, 4, 0], -3), [0.5, 0.1, 0.5], [unit, unit, unit], { target: 0.3 });
    expect(r.found).toBe(true);
    if (!r.found) return;
    expect(r.changes.map((c) => c.feature)).toEqual([1]);
    expect(r.changes[0]!.to).toBeGreaterThanOrEqual(0.538);
    expect(r.changes[0]!.to).toBeLessThan(0.56);
    expect(r.probability).toBeGreaterThanOrEqual(0.3);
  });

  it('prefers the cheaper feature measured in its own scale', async () => {
    // Both features can lift p; feature 0 has a 10× larger scale, so moving it is cheaper.
    const domains: FeatureDomain[] = [
      { ...unit, scale: 1 },
      { ...unit, scale: 0.1 },
    ];
    const r = await searchCounterfactual(logistic([3, 3], -3), [0.2, 0.2], domains, { target: 0.3 });
    expect(r.found && r.changes.map((c) => c.feature)).toEqual([0]);
  });

  it('combines several features when one is not enough, staying inside the ranges', async () => {
    const r = await searchCounterfactual(logistic([2, 2, 2], -5), [0, 0, 0], [unit, unit, unit], { target: 0.3 });
    expect(r.found).toBe(true);
    if (!r.found) return;
    expect(r.changes.length).toBeGreaterThanOrEqual(2);
    for (const v of r.input) expect(v >= 0 && v <= 1).toBe(true);
    expect(r.probability).toBeGreaterThanOrEqual(0.3);
  });

  it('says none was found when the target is out of reach within the ranges', async () => {
    const r = await searchCounterfactual(logistic([1, 1], -10), [0, 0], [unit, unit], { target: 0.3 });
    expect(r).toMatchObject({ found: false, reason: 'none-within-ranges' });
    if (r.found) return;
    expect(r.best).toBeLessThan(0.3);
    // The best reachable is shown: both features at their maximum, and its probability is the one reported.
    expect(r.closest?.input).toEqual([1, 1]);
    expect(r.best).toBeCloseTo(sigmoid(-8), 6);
  });

  it('leaves immutable features alone and uses whole numbers for integer features', async () => {
    const domains: FeatureDomain[] = [
      { ...unit, mutable: false },
      { min: -1, max: 11, kind: 'integer', scale: 3 },
    ];
    const r = await searchCounterfactual(logistic([10, 0.5], -5), [0, 0], domains, { target: 0.3 });
    expect(r.found).toBe(true);
    if (!r.found) return;
    expect(r.changes.map((c) => c.feature)).toEqual([1]);
    expect(Number.isInteger(r.changes[0]!.to)).toBe(true);
  });

  it('reports when the country is already above the target', async () => {
    const r = await searchCounterfactual(logistic([1], 2), [0], [unit]);
    expect(r).toMatchObject({ found: false, reason: 'already-above' });
  });
});
