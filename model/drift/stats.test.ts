import { describe, expect, it } from 'vitest';
import { bhAdjust, holmAdjust, jsDistance, kolmogorovQ, ksTest, psi, rocAuc } from './stats.ts';

describe('psi', () => {
  it('is 0 for identical distributions and grows with a shift', () => {
    expect(psi([10, 20, 30, 40], [1, 2, 3, 4])).toBeCloseTo(0, 10);
    const small = psi([25, 25, 25, 25], [30, 25, 25, 20]);
    const large = psi([25, 25, 25, 25], [70, 20, 5, 5]);
    expect(small).toBeGreaterThan(0);
    expect(small).toBeLessThan(0.1);
    expect(large).toBeGreaterThan(0.25);
  });
  it('stays finite with empty bins', () => {
    expect(Number.isFinite(psi([10, 0, 10], [0, 10, 10]))).toBe(true);
  });
});

describe('jsDistance', () => {
  it('is 0 for equal, 1 for disjoint distributions (base 2)', () => {
    expect(jsDistance([1, 1], [2, 2])).toBeCloseTo(0, 10);
    expect(jsDistance([1, 0], [0, 1])).toBeCloseTo(1, 10);
  });
});

describe('ksTest', () => {
  it('matches the Kolmogorov distribution at known points', () => {
    // Q(1.36) ≈ 0.049, the classic 5% critical value
    expect(kolmogorovQ(1.36)).toBeCloseTo(0.0493, 3);
    expect(kolmogorovQ(0.5)).toBeCloseTo(0.9639, 3);
  });
  it('detects a shift between large samples but not between proportional ones', () => {
    const same = ksTest([100, 200, 300, 400], [10, 20, 30, 40]);
    expect(same.statistic).toBeCloseTo(0, 10);
    expect(same.pValue).toBe(1);
    const shifted = ksTest([250, 250, 250, 250], [100, 150, 300, 450]);
    expect(shifted.statistic).toBeCloseTo(0.25, 10);
    expect(shifted.pValue).toBeLessThan(1e-6);
  });
});

describe('multiple-testing corrections', () => {
  it('holm matches hand-computed values', () => {
    const adj = holmAdjust([0.01, 0.04, 0.03, 0.005]);
    expect(adj[3]).toBeCloseTo(0.02, 10);
    expect(adj[0]).toBeCloseTo(0.03, 10);
    expect(adj[2]).toBeCloseTo(0.06, 10);
    expect(adj[1]).toBeCloseTo(0.06, 10);
  });
  it('bh matches hand-computed values', () => {
    const adj = bhAdjust([0.01, 0.04, 0.03, 0.005]);
    expect(adj[3]).toBeCloseTo(0.02, 10);
    expect(adj[0]).toBeCloseTo(0.02, 10);
    expect(adj[2]).toBeCloseTo(0.04, 10);
    expect(adj[1]).toBeCloseTo(0.04, 10);
  });
});

describe('rocAuc', () => {
  it('is 1 for a perfect ranking, 0.5 for ties, null with one class', () => {
    expect(rocAuc([0.1, 0.2, 0.8, 0.9], [false, false, true, true])).toBe(1);
    expect(rocAuc([0.5, 0.5, 0.5, 0.5], [false, true, false, true])).toBe(0.5);
    expect(rocAuc([0.1, 0.2], [true, true])).toBeNull();
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [false, false, true, true])).toBe(0.75);
  });
});
