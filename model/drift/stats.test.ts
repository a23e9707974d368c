import { describe, expect, it } from 'vitest';
import { binIndex } from '../contract/reference.ts';
import { bhAdjust, holmAdjust, jsDistance, kishEffectiveN, kolmogorovQ, ksTest, psi, psiNull } from './stats.ts';

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
  // Hand-computed for p = [0.01, 0.04, 0.03, 0.005], in input order.
  const cases = [
    ['holm', holmAdjust, [0.03, 0.06, 0.06, 0.02]],
    ['bh', bhAdjust, [0.02, 0.04, 0.04, 0.02]],
  ] as const;
  for (const [name, adjust, expected] of cases) {
    it(`${name} matches hand-computed values`, () => {
      const adj = adjust([0.01, 0.04, 0.03, 0.005]);
      for (const [i, e] of expected.entries()) expect(adj[i]).toBeCloseTo(e, 10);
    });
  }
});

/*
 * Reference values from a reference implementation: Debian's python3-scipy 1.10.1
 * (`apt-get install -y python3-scipy`), computed on this machine with
 *   from scipy import stats; from scipy.spatial import distance
 *   stats.ks_2samp(X, Y, method='exact'); stats.kstwobign.sf(λ)
 *   stats.entropy(pa, pe) + stats.entropy(pe, pa)      # PSI is the symmetric KL (Jeffreys) divergence
 *   distance.jensenshannon(pe, pa, base=2)
 * and written here; the tests do not need scipy.
 */
describe('against scipy', () => {
  const X = [1, 2, 2, 3, 3, 3, 4, 4, 5, 6, 6, 7, 8, 8, 8, 9, 10, 10, 11, 12];
  const Y = [3, 4, 5, 5, 6, 7, 7, 8, 9, 9, 10, 11, 11, 12, 12, 13, 13, 14, 15, 15, 16, 16, 17, 18];
  // One bin per integer, so the binned KS statistic is the exact one.
  const edges = Array.from({ length: 18 }, (_, i) => i + 0.5);
  const hist = (xs: number[]) => {
    const c = new Array<number>(edges.length + 1).fill(0);
    for (const x of xs) c[binIndex(edges, x)] = (c[binIndex(edges, x)] as number) + 1;
    return c;
  };

  it('two-sample KS statistic equals ks_2samp; p within 0.002 of its exact p-value', () => {
    const r = ksTest(hist(X), hist(Y));
    expect(r.statistic).toBeCloseTo(0.44166666666666665, 12);
    // scipy exact p 0.01956933948956345; ours is asymptotic with Stephens' correction.
    expect(Math.abs(r.pValue - 0.01956933948956345)).toBeLessThan(0.002);
  });

  it('the Kolmogorov tail equals scipy.stats.kstwobign.sf', () => {
    expect(kolmogorovQ(0.5)).toBeCloseTo(0.9639452436648751, 9);
    expect(kolmogorovQ(1.0)).toBeCloseTo(0.26999967167735456, 9);
    expect(kolmogorovQ(1.36)).toBeCloseTo(0.049485876755377876, 9);
    expect(kolmogorovQ(2.0)).toBeCloseTo(0.0006709252557796953, 9);
  });

  it('an effective sample size lowers the evidence, not the statistic', () => {
    const full = ksTest(hist(X), hist(Y));
    const fewer = ksTest(hist(X), hist(Y), { actual: 6 });
    expect(fewer.statistic).toBe(full.statistic);
    expect(fewer.pValue).toBeGreaterThan(full.pValue);
  });

  it('PSI equals the symmetric KL divergence from scipy.stats.entropy', () => {
    const e = [120, 95, 110, 100, 90, 105, 98, 102, 80, 100];
    const a = [30, 28, 35, 25, 20, 31, 29, 22, 40, 40];
    expect(psi(e, a)).toBeCloseTo(0.06044648483943918, 12);
    expect(jsDistance(e, a)).toBeCloseTo(0.10405753119297607, 12);
  });
});

describe('PSI null at the same sample size', () => {
  // 72 sparse bins, like the top-1 country histogram.
  const ref = Array.from({ length: 72 }, (_, i) => (i < 10 ? 150 : i < 30 ? 5 : i % 3 === 0 ? 1 : 0));

  it('is large at small n and shrinks as n grows', () => {
    const small = psiNull(ref, 100);
    const large = psiNull(ref, 10_000);
    expect(small.median).toBeGreaterThan(0.2);
    expect(large.median).toBeLessThan(small.median / 3);
    expect(small.q99).toBeGreaterThanOrEqual(small.q95);
    expect(small.q95).toBeGreaterThanOrEqual(small.median);
  });

  it('is deterministic', () => {
    expect(psiNull(ref, 300)).toEqual(psiNull(ref, 300));
  });

  it('draws the same null as the binary search over a mulberry32 stream it replaced', () => {
    // Values from the implementation before the guide table and the inlined generator (a faster sampler
    // must not move the alarm thresholds).
    const h = [30, 5, 0, 12, 1, 40, 7, 3, 0, 2];
    expect(psiNull(h, 1234)).toEqual({
      n: 1234,
      median: 0.08514142410739084,
      q95: 0.22564523826870536,
      q99: 0.44265065034402756,
    });
    expect(psiNull(h, 250, 50, 7)).toEqual({
      n: 250,
      median: 0.13120332775477989,
      q95: 0.31741023757311315,
      q99: 0.38305915671988644,
    });
  });

  it("Kish's effective n is n for equal weights and less for unequal ones", () => {
    expect(kishEffectiveN([1, 1, 1, 1])).toBeCloseTo(4, 12);
    expect(kishEffectiveN([1, 1, 1, 0.1])).toBeLessThan(4);
  });
});
