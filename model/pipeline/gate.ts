/**
 * The quality gate: a candidate is publishable only if it beats logistic
 * regression on macro AUC and is not worse than the production model (scored
 * on the same held-out songs) by more than the tolerance.
 */
import type { Metrics } from '../contract/index.ts';
import { challenge } from './challenge.ts';
import type { CvInterval, PairedDifference } from './cross-validate.ts';

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
  if (g.recent) checks.push(recentCheck(g.recent, g.tolerance));
  return { passed: checks.every((c) => c.passed), checks };
}

function recentCheck(r: RecentComparison, tolerance: number): { passed: boolean; message: string } {
  {
    if (r.candidateAuc === null || r.pairs < r.minPairs) {
      return {
        passed: true,
        message: `recent outcomes: ${r.pairs} pairs on ${r.songs} held-out songs, fewer than ${r.minPairs} with both classes: not compared`,
      };
    }
    if (r.productionAuc === null) {
      return {
        passed: true,
        message: `recent outcomes: AUC ${f(r.candidateAuc)} on ${r.pairs} pairs (${r.songs} songs); no production model to compare with`,
      };
    }
    const drop = r.productionAuc - r.candidateAuc;
    const ok = drop <= tolerance;
    return {
      passed: ok,
      message: `recent outcomes: AUC ${f(r.candidateAuc)} vs production ${f(r.productionAuc)} on ${r.pairs} pairs (${r.songs} held-out songs): ${drop > 0 ? `worse by ${f(drop)}` : 'not worse'} (tolerance ${tolerance})`,
    };
  }
}

export interface CvGateInput {
  /** The candidate's name in the cross-validation table. */
  readonly candidate: string;
  /** Candidate − logistic regression, paired over the same folds. */
  readonly vsLogistic: PairedDifference;
  /**
   * The production model's recipe scored in the same folds. `sameRecipe`: production was trained with the
   * candidate's settings (the candidate is its refit), so there is nothing to compare.
   */
  readonly production?:
    | {
        readonly version: string;
        readonly sameRecipe: boolean;
        readonly difference?: PairedDifference;
        /** The candidate has no more parameters than production (it is the simpler one on a tie). */
        readonly candidateSimpler: boolean;
      }
    | undefined;
  readonly recent?: RecentComparison | undefined;
  readonly tolerance: number;
}

const signed = (n: number) => `${n >= 0 ? '+' : ''}${f(n)}`;
const show = (i: CvInterval) => `${signed(i.mean)} [${signed(i.lo)}, ${signed(i.hi)}]`;
const both = (d: PairedDifference) => `macro AUC ${show(d.macroAuc)}, top-5 hit ${show(d.top5Hit)}`;

/**
 * The gate on cross-validation: the candidate passes only when its paired advantage over logistic regression
 * is above zero beyond noise (95 % corrected interval) on both macro AUC and top-5 hit, and it is not worse
 * than production's recipe in the same folds (a tie with production keeps the simpler model).
 */
export function runCvGate(g: CvGateInput): GateResult {
  const checks: { passed: boolean; message: string }[] = [];
  // Logistic regression is the simpler kept model: only better on both replaces it (`challenge.ts`).
  const vs = challenge(g.candidate, 'logistic regression', g.vsLogistic, false);
  const vl = vs.verdict;
  checks.push({
    passed: vs.replaces,
    message:
      vl === 'better'
        ? `${g.candidate} vs logistic regression, cross-validated paired difference: ${both(g.vsLogistic)}: better beyond noise on both`
        : vl === 'worse'
          ? `${g.candidate} vs logistic regression, cross-validated paired difference: ${both(g.vsLogistic)}: worse than logistic regression`
          : `${g.candidate} vs logistic regression, cross-validated paired difference: ${both(g.vsLogistic)}: a tie within noise, so the simpler model (logistic regression) is kept and ${g.candidate} is not published`,
  });
  const p = g.production;
  if (!p) checks.push({ passed: true, message: 'no production model to compare with' });
  else if (p.sameRecipe)
    checks.push({
      passed: true,
      message: `production ${p.version} was trained with the same settings: this is its refit (paired difference 0)`,
    });
  else if (!p.difference)
    checks.push({
      passed: false,
      message: `production ${p.version}'s settings could not be scored in the same folds: no evidence it is not worse`,
    });
  else {
    // The same rule selection applies between candidates (`challenge.ts`): production is the kept model.
    const ch = challenge(g.candidate, `production ${p.version}`, p.difference, p.candidateSimpler);
    checks.push({
      passed: ch.replaces,
      message: `${g.candidate} vs production ${p.version}'s settings in the same folds: ${both(p.difference)}: ${
        ch.verdict === 'better'
          ? 'better beyond noise on both'
          : ch.verdict === 'worse'
            ? 'worse than production'
            : ch.replaces
              ? 'a tie, and the candidate is the simpler model'
              : 'a tie, so the simpler production model is kept'
      }`,
    });
  }
  if (g.recent) checks.push(recentCheck(g.recent, g.tolerance));
  return { passed: checks.every((c) => c.passed), checks };
}
