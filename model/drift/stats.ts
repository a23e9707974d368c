/**
 * Distribution-distance statistics on histograms that share bin edges (the
 * reference profile's), so they can be computed from merged counts alone:
 * PSI, two-sample Kolmogorov–Smirnov, Jensen–Shannon distance, plus the
 * multiple-testing corrections and ROC-AUC used by drift reports.
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
export function ksTest(expected: readonly number[], actual: readonly number[]): KsResult {
  const n = expected.reduce((a, b) => a + b, 0);
  const m = actual.reduce((a, b) => a + b, 0);
  if (n === 0 || m === 0) return { statistic: 0, pValue: 1 };
  let fe = 0;
  let fa = 0;
  let d = 0;
  for (let i = 0; i < expected.length; i++) {
    fe += (expected[i] as number) / n;
    fa += (actual[i] as number) / m;
    d = Math.max(d, Math.abs(fe - fa));
  }
  const ne = Math.sqrt((n * m) / (n + m));
  return { statistic: d, pValue: kolmogorovQ((ne + 0.12 + 0.11 / ne) * d) };
}

/** Holm–Bonferroni step-down adjusted p-values (controls the family-wise error rate), in input order. */
export function holmAdjust(pValues: readonly number[]): number[] {
  const k = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(k).fill(1);
  let running = 0;
  order.forEach(([p, i], rank) => {
    running = Math.max(running, Math.min(1, (k - rank) * p));
    out[i] = running;
  });
  return out;
}

/** Benjamini–Hochberg adjusted p-values (controls the false discovery rate), in input order. */
export function bhAdjust(pValues: readonly number[]): number[] {
  const k = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => b[0] - a[0]);
  const out = new Array<number>(k).fill(1);
  let running = 1;
  order.forEach(([p, i], idx) => {
    const rank = k - idx;
    running = Math.min(running, (p * k) / rank);
    out[i] = Math.min(1, running);
  });
  return out;
}

/** ROC-AUC by the rank-sum (Mann–Whitney) formula with average ranks for ties; null without both classes. */
export function rocAuc(scores: readonly number[], labels: readonly boolean[]): number | null {
  const idx = scores.map((_, i) => i).sort((a, b) => (scores[a] as number) - (scores[b] as number));
  let pos = 0;
  for (const l of labels) if (l) pos++;
  const neg = labels.length - pos;
  if (pos === 0 || neg === 0) return null;
  let rankSumPos = 0;
  let i = 0;
  while (i < idx.length) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1] as number] === scores[idx[i] as number]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) if (labels[idx[t] as number]) rankSumPos += avgRank;
    i = j + 1;
  }
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}
