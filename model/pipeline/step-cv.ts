/**
 * Cross-validation over all songs (every candidate on the same folds, each fold its own cached step),
 * selection, the time-ordered report where songs carry dates, and the refit of the chosen recipe on every song.
 */

import type { DenseWeights } from '../runtime/dense-model.ts';
import { cachedStep, type StepOutcome } from './cache.ts';
import { applyCalibration, fitPlatt } from './calibrate.ts';
import {
  fitFold,
  fitStackWeights,
  foldRecipe,
  foldScalerFor,
  matricesOf,
  productionRecipe,
  type Recipe,
  recipeLogits,
  recipeParameters,
  recipeShift,
  refitEpochs,
  resolveStack,
  sameRecipe,
  trainRecipes,
} from './candidates.ts';
import {
  type CvRun,
  type CvSettings,
  candidateInterval,
  crossValidate,
  innerSplit,
  type PairedDifference,
  pairedDifference,
} from './cross-validate.ts';
import { computeMetrics } from './metrics.ts';
import { deriveSeed } from './prng.ts';
import type { Scaler } from './scaler.ts';
import { type Selection, selectCandidate } from './select-candidate.ts';
import type { StepContext } from './step-context.ts';
import type { Targets } from './step-data.ts';
import { labelMatrix } from './targets.ts';
import { splitByTime } from './time-order.ts';

export interface CvOptions {
  readonly settings: CvSettings;
  /** Candidates; must include one named `logistic` (the reference). */
  readonly recipes: readonly Recipe[];
  /** The candidate the gate judges when none beats logistic regression beyond noise. */
  readonly fallback: string;
}

export interface TimeOrderedReport {
  readonly trainSongs: number;
  readonly testSongs: number;
  readonly trainUntil: string | null;
  readonly from: string;
  readonly to: string;
  /** The chosen candidate and logistic regression on the later songs. */
  readonly scores: Record<string, { macroAuc: number; top5Hit: number }>;
}

/** What cross-validation decided, for the gate, the card and the run record. */
export interface CvOutcome {
  readonly settings: CvSettings;
  readonly songs: number;
  readonly recipes: readonly { name: string; description: string; parameters: number }[];
  readonly folds: CvRun['folds'];
  readonly estimates: Record<string, PairedDifference>;
  /** Each candidate minus logistic regression, paired per fold. */
  readonly vsLogistic: Record<string, PairedDifference>;
  readonly selection: Selection;
  /** Production's settings as a candidate: the candidate it matched, or `production` when trained here. */
  readonly production?: { version: string; matched: string } | undefined;
  /** Trained on the earlier songs, tested on the later ones (only where songs carry dates). */
  readonly timeOrdered?: TimeOrderedReport | undefined;
  readonly refit?: {
    readonly songs: number;
    readonly epochs: Record<string, number>;
    readonly calibration: { a: number; b: number };
  };
}

/** The outcome with what later steps need but the run record does not keep. */
export type CvSelected = CvOutcome & {
  /** The chosen recipe (a stack with its weights fitted on the out-of-fold scores). */
  readonly chosen: Recipe;
  readonly run: CvRun;
  readonly key: string;
  /** Every candidate cross-validated (with production's settings when they matched none). */
  readonly all: readonly Recipe[];
};

/** The production model as cross-validation sees it: its version and its training settings from the lineage. */
export interface ProductionSettings {
  readonly version: string;
  readonly parameters: unknown;
}

export async function crossValidateStep(
  ctx: StepContext,
  cvo: CvOptions,
  targets: StepOutcome<Targets>,
  prod: ProductionSettings | null,
): Promise<CvSelected> {
  const { o, cache } = ctx;
  const recipes = [...cvo.recipes];
  if (!recipes.some((r) => r.name === 'logistic')) throw new Error('cross-validation needs a logistic candidate');
  const prodRecipe = prod ? productionRecipe(prod.parameters) : null;
  let prodMatch = prodRecipe ? recipes.find((r) => sameRecipe(r, prodRecipe))?.name : undefined;
  if (prod && prodRecipe && !prodMatch) {
    recipes.push({ name: 'production', description: `production ${prod.version}'s settings`, ...prodRecipe });
    prodMatch = 'production';
  }
  const songs = targets.value.songs;
  const cvStep = await cachedStep(
    cache,
    'cross-validate',
    { targets: targets.key, settings: cvo.settings, recipes, seed: o.seed },
    async () => {
      await ctx.backend();
      const t0 = Date.now();
      const score = fitFold(recipes, o.seed);
      // Each fold is its own cached step: a 5 × 3 run reuses the folds of a 5 × 1 run (repeat r's folds
      // depend only on the seed and r), and an interrupted run resumes where it stopped.
      return crossValidate(
        songs,
        cvo.settings,
        o.seed,
        async (f) =>
          (
            await cachedStep(
              cache,
              'cv-fold',
              {
                targets: targets.key,
                folds: cvo.settings.folds,
                inner: cvo.settings.innerValidationShare,
                repeat: f.repeat,
                fold: f.fold,
                recipes,
                seed: o.seed,
              },
              () => score(f),
            )
          ).value,
        (done, total) => o.log(`cross-validation: fold ${done}/${total} (${((Date.now() - t0) / 1000).toFixed(0)} s)`),
      );
    },
  );
  const run = cvStep.value;
  const selection = selectCandidate(run.folds, recipes, cvo.fallback);
  const selected = recipes.find((r) => r.name === selection.chosen);
  if (!selected) throw new Error(`cross-validation has no candidate named ${selection.chosen}`);
  // A stack ships with one set of weights: fitted on every song's out-of-fold scores (first repeat).
  const chosen = selected.stackOf
    ? resolveStack(
        selected,
        recipes,
        fitStackWeights(
          selected.stackOf.map((n) => run.outOfFold[n] as Float32Array),
          labelMatrix(songs),
          songs.length,
        ),
      )
    : selected;
  const out: CvSelected = {
    settings: cvo.settings,
    songs: songs.length,
    recipes: recipes.map((r) => ({ name: r.name, description: r.description, parameters: recipeParameters(r) })),
    folds: run.folds,
    estimates: Object.fromEntries(recipes.map((r) => [r.name, candidateInterval(run.folds, r.name)])),
    vsLogistic: Object.fromEntries(
      recipes
        .filter((r) => r.name !== 'logistic')
        .map((r) => [r.name, pairedDifference(run.folds, r.name, 'logistic')]),
    ),
    selection,
    ...(prod && prodMatch ? { production: { version: prod.version, matched: prodMatch } } : {}),
    chosen,
    run,
    key: cvStep.key,
    all: recipes,
  };
  for (const r of recipes) {
    const e = out.estimates[r.name] as PairedDifference;
    ctx.say(
      `cross-validation ${r.name}: macro AUC ${e.macroAuc.mean.toFixed(4)} [${e.macroAuc.lo.toFixed(4)}, ${e.macroAuc.hi.toFixed(4)}], top-5 hit ${e.top5Hit.mean.toFixed(4)} [${e.top5Hit.lo.toFixed(4)}, ${e.top5Hit.hi.toFixed(4)}]${cvStep.hit ? ' (cached)' : ''}`,
    );
  }
  ctx.say(`selection: ${selection.reason}`);
  return out;
}

/** Time-ordered: the chosen candidate and logistic regression trained on the earlier songs, tested on the later. */
export async function timeOrderedStep(
  ctx: StepContext,
  cv: CvSelected,
  targets: StepOutcome<Targets>,
): Promise<CvSelected> {
  const { o } = ctx;
  const byTime = o.songDates ? splitByTime(targets.value.songs, o.songDates) : null;
  if (!byTime) return cv;
  const both = cv.all
    .filter((r) => r.name === cv.chosen.name || r.name === 'logistic')
    .map((r) => (r.name === cv.chosen.name ? cv.chosen : r));
  const timed = await cachedStep(
    ctx.cache,
    'time-ordered',
    { targets: targets.key, recipes: both, dates: o.songDates, seed: o.seed },
    async (): Promise<TimeOrderedReport> => {
      await ctx.backend();
      const inner = innerSplit(byTime.train, cv.settings.innerValidationShare, deriveSeed(o.seed, 'time-inner'));
      const sc = foldScalerFor(inner.train);
      const tr = matricesOf(inner.train, sc);
      const trained = await trainRecipes(both, tr, matricesOf(inner.validation, sc), o.seed);
      const te = matricesOf(byTime.test, sc);
      const scores: Record<string, { macroAuc: number; top5Hit: number }> = {};
      for (const r of both) {
        const m = computeMetrics(recipeLogits(r, trained, o.seed, tr, te.x, te.rows), te.y, te.rows, 72);
        scores[r.name] = { macroAuc: m.macroAuc, top5Hit: m.top5Hit };
      }
      const { train: _t, test: _s, ...dates } = byTime;
      return { trainSongs: byTime.train.length, testSongs: byTime.test.length, ...dates, scores };
    },
  );
  for (const [name, m] of Object.entries(timed.value.scores)) {
    ctx.say(
      `time-ordered ${name}: trained on ${timed.value.trainSongs} songs (dated until ${timed.value.trainUntil ?? '-'}), tested on ${timed.value.testSongs} songs from ${timed.value.from} to ${timed.value.to}: macro AUC ${m.macroAuc.toFixed(4)}, top-5 hit ${m.top5Hit.toFixed(4)}`,
    );
  }
  return { ...cv, timeOrdered: timed.value };
}

export interface RefitValue {
  readonly weights: DenseWeights;
  readonly scaler: Scaler;
  readonly songs: number;
  readonly epochs: Record<string, number>;
  readonly calibration: { a: number; b: number };
}

/**
 * The refit: the chosen recipe on every song, each network for the median best epoch of the folds,
 * calibrated on the out-of-fold scores of the first repeat (every song scored once by a model that did not
 * train on it).
 */
export async function refitStep(
  ctx: StepContext,
  cv: CvSelected,
  targets: StepOutcome<Targets>,
): Promise<{ refit: StepOutcome<RefitValue>; cv: CvSelected }> {
  const { o } = ctx;
  const refit = await cachedStep(ctx.cache, 'refit', { cv: cv.key, recipe: cv.chosen, seed: o.seed }, async () => {
    await ctx.backend();
    const songs = targets.value.songs;
    const scalerAll = foldScalerFor(songs);
    const all = matricesOf(songs, scalerAll);
    const epochs = refitEpochs(cv.chosen, cv.folds);
    const trained = await trainRecipes([cv.chosen], all, null, o.seed, epochs);
    const shift = recipeShift(cv.chosen, all.y, all.rows);
    const oof = cv.run.outOfFold[cv.chosen.name];
    if (!oof) throw new Error(`no out-of-fold scores for ${cv.chosen.name}`);
    const platt = fitPlatt(oof, all.y);
    const calibration = platt.a > 0 ? { shift, ...platt } : { shift, a: 1, b: 0 };
    return {
      weights: applyCalibration(foldRecipe(cv.chosen, trained, o.seed), calibration),
      scaler: scalerAll,
      songs: songs.length,
      epochs: Object.fromEntries(
        cv.chosen.parts.map((p, i) => [
          p.params.trees ? `part ${i + 1} (trees)` : `part ${i + 1} (hidden ${JSON.stringify(p.params.hidden)})`,
          [...epochs.values()][i] ?? 0,
        ]),
      ),
      calibration: { a: calibration.a, b: calibration.b },
    };
  });
  ctx.say(
    `refit: ${cv.chosen.name} on all ${refit.value.songs} songs, epochs ${JSON.stringify(refit.value.epochs)}, calibration a ${refit.value.calibration.a.toFixed(3)}, b ${refit.value.calibration.b.toFixed(3)} (out-of-fold)${refit.hit ? ' (cached)' : ''}`,
  );
  return {
    refit,
    cv: {
      ...cv,
      refit: { songs: refit.value.songs, epochs: refit.value.epochs, calibration: refit.value.calibration },
    },
  };
}
