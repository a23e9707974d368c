/**
 * The quality gate: a candidate is publishable only if it beats logistic
 * regression on macro AUC and is not worse than the production model (scored
 * on the same held-out songs) by more than the tolerance.
 */
import type { Metrics } from '../contract/index.ts';

export const DEFAULT_REGRESSION_TOLERANCE = 0.01;

export interface GateInput {
  readonly candidate: Metrics;
  readonly logistic: Metrics;
  readonly production?: { readonly version: string; readonly metrics: Metrics } | undefined;
  readonly tolerance: number;
  /**
   * Recent field outcomes on songs the candidate did not train on: pooled ROC-AUC over (song, country)
   * pairs of both models. Compared only with enough pairs of both classes.
   */
  readonly recent?: RecentComparison | undefined;
}

export interface RecentComparison {
  readonly pairs: number;
  readonly songs: number;
  readonly minPairs: number;
  readonly candidateAuc: number | null;
  readonly productionAuc: number | null;
}

export interface GateResult {
  readonly passed: boolean;
  /** One sentence per check, pass or fail, for the log and the run record. */
  readonly checks: readonly { readonly passed: boolean; readonly message: string }[];
}

const f = (n: number) => n.toFixed(4);

export function runGate(g: GateInput): GateResult {
  const checks: { passed: boolean; message: string }[] = [];
  const beatsLogistic = g.candidate.macroAuc > g.logistic.macroAuc;
  checks.push({
    passed: beatsLogistic,
    message: `macro AUC ${f(g.candidate.macroAuc)} ${beatsLogistic ? '>' : '≤'} logistic regression ${f(g.logistic.macroAuc)}`,
  });
  if (g.production) {
    const drop = g.production.metrics.macroAuc - g.candidate.macroAuc;
    const ok = drop <= g.tolerance;
    checks.push({
      passed: ok,
      message: `macro AUC ${f(g.candidate.macroAuc)} vs production ${g.production.version} ${f(g.production.metrics.macroAuc)} on the same songs: ${drop > 0 ? `worse by ${f(drop)}` : 'not worse'} (tolerance ${g.tolerance})`,
    });
  } else {
    checks.push({ passed: true, message: 'no production model to compare with' });
  }
  if (g.recent) {
    const r = g.recent;
    if (r.candidateAuc === null || r.pairs < r.minPairs) {
      checks.push({
        passed: true,
        message: `recent outcomes: ${r.pairs} pairs on ${r.songs} held-out songs, fewer than ${r.minPairs} with both classes: not compared`,
      });
    } else if (r.productionAuc === null) {
      checks.push({
        passed: true,
        message: `recent outcomes: AUC ${f(r.candidateAuc)} on ${r.pairs} pairs (${r.songs} songs); no production model to compare with`,
      });
    } else {
      const drop = r.productionAuc - r.candidateAuc;
      const ok = drop <= g.tolerance;
      checks.push({
        passed: ok,
        message: `recent outcomes: AUC ${f(r.candidateAuc)} vs production ${f(r.productionAuc)} on ${r.pairs} pairs (${r.songs} held-out songs): ${drop > 0 ? `worse by ${f(drop)}` : 'not worse'} (tolerance ${g.tolerance})`,
      });
    }
  }
  return { passed: checks.every((c) => c.passed), checks };
}
