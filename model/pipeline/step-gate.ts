/**
 * The gate's evidence and decision: recent field outcomes of songs the shipped model never trained on, then
 * the gate on cross-validation when it ran (the test split is then only a report), else on the test split.
 */
import { COUNTRY_CODES, type Metrics } from '../contract/index.ts';
import { type DenseWeights, parseDenseModel, predictReference } from '../runtime/dense-model.ts';
import { rocAuc } from '../stats/roc-auc.ts';
import { recipeParameters } from './candidates.ts';
import { pairedDifference } from './cross-validate.ts';
import { type ProductionScore, predictInMemory } from './evaluate.ts';
import { type GateResult, type RecentComparison, runCvGate, runGate } from './gate.ts';
import { applyScaler, type Scaler } from './scaler.ts';
import type { StepContext } from './step-context.ts';
import type { CvSelected } from './step-cv.ts';
import type { SplitStep, Targets } from './step-data.ts';
import type { ProductionModel } from './step-train.ts';

/** What ships: standardised-input weights and their scaler (the refit, or the split-trained model). */
export interface Shipped {
  readonly weights: DenseWeights;
  readonly scaler: Scaler;
  readonly key: string;
  /** Refit on every song (else trained on the train split). */
  readonly refit: boolean;
}

/** Recent field outcomes on songs the candidate never trained on (test split or not in the data at all). */
export async function compareRecent(
  ctx: StepContext,
  ship: Shipped,
  targets: Targets,
  split: SplitStep,
  prod: ProductionModel | null,
): Promise<RecentComparison | undefined> {
  const { o } = ctx;
  if (!o.recentOutcomes || o.recentOutcomes.length === 0) return undefined;
  await ctx.backend();
  const { sp } = split;
  const seen = new Set((ship.refit ? targets.songs : [...sp.train, ...sp.validation]).map((s) => s.id));
  const held = o.recentOutcomes.filter((r) => !seen.has(r.song));
  const songs = [...new Set(held.map((r) => r.song))];
  const row = new Map(songs.map((s, i) => [s, i]));
  const raw = new Float32Array(songs.length * 13);
  for (const r of held) raw.set(r.x, (row.get(r.song) as number) * 13);
  const k = COUNTRY_CODES.length;
  const cand =
    songs.length > 0 ? predictInMemory(ship.weights, applyScaler(raw, ship.scaler), songs.length) : new Float32Array();
  const parsedProd = prod
    ? parseDenseModel(prod.modelJson, prod.weights.slice().buffer as ArrayBuffer, prod.trees)
    : null;
  const prodScores: number[] = [];
  const candScores: number[] = [];
  const labels: number[] = [];
  const prodRows = new Map<number, Float64Array>();
  for (const r of held) {
    const i = row.get(r.song) as number;
    candScores.push(cand[i * k + r.country] as number);
    labels.push(r.charted ? 1 : 0);
    if (parsedProd?.ok) {
      let p = prodRows.get(i);
      if (!p) {
        p = predictReference(parsedProd.value, raw.subarray(i * 13, (i + 1) * 13));
        prodRows.set(i, p);
      }
      prodScores.push(p[r.country] as number);
    }
  }
  const recent: RecentComparison = {
    pairs: held.length,
    songs: songs.length,
    minPairs: o.recentMinPairs ?? 50,
    candidateAuc: rocAuc(candScores, labels),
    productionAuc: parsedProd?.ok ? rocAuc(prodScores, labels) : null,
  };
  ctx.say(
    `recent outcomes: ${held.length} of ${o.recentOutcomes.length} (song, country) pairs on ${songs.length} songs not trained on; AUC candidate ${recent.candidateAuc?.toFixed(4) ?? '-'}, production ${recent.productionAuc?.toFixed(4) ?? '-'}`,
  );
  return recent;
}

export function gateStep(
  ctx: StepContext,
  cv: CvSelected | undefined,
  test: { model: Metrics; baselines: Record<string, Metrics> },
  production: ProductionScore | undefined,
  prod: ProductionModel | null,
  recent: RecentComparison | undefined,
): GateResult {
  const tolerance = ctx.o.gateTolerance;
  const gate = cv
    ? runCvGate({
        candidate: cv.chosen.name,
        vsLogistic: cv.vsLogistic[cv.chosen.name] ?? pairedDifference(cv.folds, cv.chosen.name, 'logistic'),
        production: cv.production
          ? {
              version: cv.production.version,
              sameRecipe: cv.production.matched === cv.chosen.name,
              difference: pairedDifference(cv.folds, cv.chosen.name, cv.production.matched),
              candidateSimpler:
                recipeParameters(cv.chosen) <=
                (cv.recipes.find((r) => r.name === cv.production?.matched)?.parameters ?? 0),
            }
          : prod
            ? { version: prod.version, sameRecipe: false, candidateSimpler: false }
            : undefined,
        recent,
        tolerance,
      })
    : runGate({
        recent,
        candidate: test.model,
        logistic: test.baselines.logistic as Metrics,
        production: production ? { version: production.version, metrics: production.metrics } : undefined,
        tolerance,
      });
  for (const c of gate.checks) ctx.say(`gate: ${c.passed ? 'pass' : 'FAIL'}: ${c.message}`);
  return gate;
}
