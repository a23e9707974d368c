/**
 * Distribution-distance statistics on histograms that share bin edges (the
 * reference profile's), so they can be computed from merged counts alone:
 * PSI, two-sample Kolmogorov–Smirnov, Jensen–Shannon distance, plus the
 * multiple-testing corrections used by drift reports (ROC-AUC: `../stats/roc-auc.ts`).
 */

/** Proportions floor: empty bins would make PSI infinite (same floor as most PSI tools use). */
const EPS = 1e-4;

function proportions(counts: readonly number[]): number[] {
  const n = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (n > 0 ? c / n : 0));
}

/**
 * Population Stability Index: Σ (a − e) · ln(a / e) over bins, proportions
 * floored at 1e-4. 0 = identical; < 0.1 stable, 0.1–0.25 moderate shift, > 0.25 major.
 */
export function psi(expected: readonly number[], actual: readonly number[]): number {
  const e = proportions(expected);
  const a = proportions(actual);
  let s = 0;
  for (let i = 0; i < e.length; i++) {
    const ei = Math.max(e[i] as number, EPS);
    const ai = Math.max(a[i] as number, EPS);
    s += (ai - ei) * Math.log(ai / ei);
  }
  return s;
}

/** Jensen–Shannon distance with log base 2 (0 identical … 1 disjoint): the square root of the divergence. */
export function jsDistance(p: readonly number[], q: readonly number[]): number {
  const a = proportions(p);
  const b = proportions(q);
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    const ai = a[i] as number;
    const bi = b[i] as number;
    const m = (ai + bi) / 2;
    if (ai > 0) d += 0.5 * ai * Math.log2(ai / m);
    if (bi > 0) d += 0.5 * bi * Math.log2(bi / m);
  }
  return Math.sqrt(Math.max(0, d));
}

/**
 * Kolmogorov distribution tail Q(λ) = 2 Σ (−1)^(k−1) e^(−2k²λ²)
 * (Numerical Recipes' `probks`).
 */
export function kolmogorovQ(lambda: number): number {
  if (lambda < 1e-3) return 1;
  let sum = 0;
  let sign = 1;
  let prev = 0;
  for (let k = 1; k <= 100; k++) {
    const term = sign * 2 * Math.exp(-2 * k * k * lambda * lambda);
    sum += term;
    if (Math.abs(term) <= 1e-10 * Math.abs(prev) || Math.abs(term) <= 1e-16 * sum) return Math.min(1, Math.max(0, sum));
    sign = -sign;
    prev = term;
  }
  return 1; // not converging only happens for tiny λ, where Q → 1
}

export interface KsResult {
  statistic: number;
  pValue: number;
}

/**
 * Two-sample KS on binned data: D = max |F_ref − F_obs| over the shared bin
 * edges, p from the asymptotic Kolmogorov distribution with the effective
 * sample size n·m/(n+m) and Stephens' small-sample correction. Binning makes
 * D a lower bound of the exact statistic (the test is conservative), and the
 * p-value is approximate for small samples and for categorical features.
 */
export function ksTest(
  expected: readonly number[],
  actual: readonly number[],
  /**
   * Effective sample sizes for the p-value when the counts are weighted (e.g. Kish's n_eff of the
   * observed songs); default: the sums of the counts.
   */
  effective: { expected?: number; actual?: number } = {},
): KsResult {
  const sumE = expected.reduce((a, b) => a + b, 0);
  const sumA = actual.reduce((a, b) => a + b, 0);
  if (sumE === 0 || sumA === 0) return { statistic: 0, pValue: 1 };
  const n = effective.expected ?? sumE;
  const m = effective.actual ?? sumA;
  let fe = 0;
  let fa = 0;
  let d = 0;
  for (let i = 0; i < expected.length; i++) {
    fe += (expected[i] as number) / sumE;
    fa += (actual[i] as number) / sumA;
    d = Math.max(d, Math.abs(fe - fa));
  }
  const ne = Math.sqrt((n * m) / (n + m));
  return { statistic: d, pValue: kolmogorovQ((ne + 0.12 + 0.11 / ne) * d) };
}

/**
 * Visits the p-values sorted ascending (`direction` 1) or descending (-1) and writes `adjust(p, position in that
 * order)` back at each p-value's input position: the frame of the step-wise corrections below.
 */
function adjustInOrder(
  pValues: readonly number[],
  direction: 1 | -1,
  adjust: (p: number, position: number) => number,
): number[] {
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => direction * (a[0] - b[0]));
  const out = new Array<number>(pValues.length).fill(1);
  order.forEach(([p, i], position) => {
    out[i] = adjust(p, position);
  });
  return out;
}

/** Holm–Bonferroni step-down adjusted p-values (controls the family-wise error rate), in input order. */
export function holmAdjust(pValues: readonly number[]): number[] {
  const k = pValues.length;
  let running = 0;
  return adjustInOrder(pValues, 1, (p, rank) => {
    running = Math.max(running, Math.min(1, (k - rank) * p));
    return running;
  });
}

/** Benjamini–Hochberg adjusted p-values (controls the false discovery rate), in input order. */
export function bhAdjust(pValues: readonly number[]): number[] {
  const k = pValues.length;
  let running = 1;
  return adjustInOrder(pValues, -1, (p, fromTop) => {
    const rank = k - fromTop;
    running = Math.min(running, (p * k) / rank);
    return Math.min(1, running);
  });
}

/**
 * Kish's effective sample size of weighted observations, (Σw)² / Σw²: n when all weights are equal,
 * less when a few observations carry most of the weight.
 */
export function kishEffectiveN(weights: readonly number[]): number {
  let s = 0;
  let s2 = 0;
  for (const w of weights) {
    s += w;
    s2 += w * w;
  }
  return s2 > 0 ? (s * s) / s2 : 0;
}

/** Deterministic PRNG state (mulberry32) for the bootstrap: the same inputs always give the same null. */
interface Mulberry32 {
  a: number;
}

/**
 * n draws from the categorical distribution with cumulative probabilities `cdf`, as counts per category.
 * Each draw is the first category whose cumulative probability reaches u; a guide table (the first such
 * category for each of 8k equal slices of [0, 1)) starts the search next to it, and the generator is
 * stepped inline: a report's null costs a few operations per draw, with the same categories drawn as a
 * binary search over a mulberry32 closure.
 */
function multinomial(cdf: readonly number[], n: number, rng: Mulberry32): number[] {
  const k = cdf.length;
  const out = new Array<number>(k).fill(0);
  const m = k * 8;
  const guide = new Int32Array(m);
  let i = 0;
  for (let j = 0; j < m; j++) {
    while (i < k - 1 && (cdf[i] as number) < j / m) i++;
    guide[j] = i;
  }
  let a = rng.a;
  for (let d = 0; d < n; d++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    let c = guide[Math.floor(u * m)] as number;
    while (c < k - 1 && (cdf[c] as number) < u) c++;
    out[c] = (out[c] as number) + 1;
  }
  rng.a = a;
  return out;
}

export interface NullDistribution {
  /** Sample size the null was drawn for. */
  n: number;
  median: number;
  q95: number;
  q99: number;
}

/**
 * What PSI looks like when nothing has changed, at sample size n: the observed window and a fresh
 * reference of the same size as the stored one are both drawn from the reference's own shares, `draws`
 * times, and PSI is computed between them. PSI over sparse bins is biased upwards at small n (72 top-1
 * countries from 100 songs give ≈ 0.85 by chance alone), so an alarm compares the observed PSI with this
 * null at the same n instead of with a fixed number.
 */
export function psiNull(reference: readonly number[], n: number, draws = 200, seed = 1): NullDistribution {
  const total = reference.reduce((a, b) => a + b, 0);
  if (n <= 0 || total <= 0) return { n, median: 0, q95: 0, q99: 0 };
  const cdf: number[] = [];
  let acc = 0;
  for (const c of reference) {
    acc += c / total;
    cdf.push(acc);
  }
  cdf[cdf.length - 1] = 1;
  const random: Mulberry32 = { a: (seed ^ Math.round(n)) >>> 0 };
  const values: number[] = [];
  for (let d = 0; d < draws; d++) {
    values.push(psi(multinomial(cdf, Math.round(total), random), multinomial(cdf, Math.round(n), random)));
  }
  values.sort((a, b) => a - b);
  const q = (p: number) => values[Math.min(values.length - 1, Math.floor(p * values.length))] as number;
  return { n, median: q(0.5), q95: q(0.95), q99: q(0.99) };
}
