/**
 * Steps 5–6 on the single split: train the model (with cross-validation, the chosen recipe) and the trained
 * baselines, calibrate on the validation songs, evaluate on the test songs beside the baselines and the
 * production model: the final, untouched report.
 */
import { COUNTRY_CODES } from '../contract/index.ts';
import { parseDenseModel, predictReference } from '../runtime/dense-model.ts';
import { cachedStep, type StepOutcome } from './cache.ts';
import { applyCalibration, fitCalibration } from './calibrate.ts';
import { foldRecipe, partMembers, type Recipe, recipeParameters, recipeShift, trainRecipes } from './candidates.ts';
import { buildEvaluation, type ProductionScore, predictInMemory, priorPredictions } from './evaluate.ts';
import { bootstrapMacroAuc, computeMetrics, macroAuc } from './metrics.ts';
import { deriveSeed } from './prng.ts';
import { trainingProgress } from './progress.ts';
import type { NetworkParams } from './run-pipeline.ts';
import type { StepContext } from './step-context.ts';
import type { SplitStep } from './step-data.ts';
import { type EnsembleResult, positiveWeights, trainEnsemble } from './train.ts';

export interface TrainedOnSplit {
  readonly model: StepOutcome<EnsembleResult>;
  readonly logistic: StepOutcome<EnsembleResult>;
  readonly course: StepOutcome<EnsembleResult>;
}

/** Step 5: the model and the trained baselines on the train split (early stopping on validation). */
export async function trainStep(ctx: StepContext, split: SplitStep, chosen: Recipe | null): Promise<TrainedOnSplit> {
  const { o, cache } = ctx;
  const { train, val } = split;
  const train1 = (name: string, p: NetworkParams) =>
    cachedStep(
      cache,
      `train-${name}`,
      { split: split.key, params: p, seed: o.seed },
      async (): Promise<EnsembleResult> => {
        await ctx.backend();
        let bar: ReturnType<typeof trainingProgress> | undefined;
        try {
          return await trainEnsemble(
            { x: train.std, y: train.y, rows: train.rows },
            { x: val.std, y: val.y, rows: val.rows },
            { ...p, seed: o.seed },
            (m) => {
              bar?.stop();
              bar = trainingProgress(p.members > 1 ? `${name} ${m + 1}/${p.members}` : name, p.maxEpochs, o.progress);
              return bar.onEpoch;
            },
          );
        } finally {
          bar?.stop();
        }
      },
    );
  // With cross-validation, the chosen recipe trained on the train split is what the held-out test report scores.
  const model = chosen
    ? await cachedStep(
        cache,
        'train-recipe',
        { split: split.key, recipe: chosen, seed: o.seed },
        async (): Promise<EnsembleResult> => {
          await ctx.backend();
          const trained = await trainRecipes(
            [chosen],
            { x: train.std, y: train.y, rows: train.rows, raw: train.raw },
            { x: val.std, y: val.y, rows: val.rows, raw: val.raw },
            o.seed,
            undefined,
            // Calibration below is fitted on the validation songs: no tree may have trained on them.
            { validationHeldOut: true },
          );
          const members = chosen.parts.flatMap((p) => partMembers(p, trained, o.seed));
          const weights = foldRecipe(chosen, trained, o.seed);
          return {
            weights,
            members: members.map((m) => ({
              history: [],
              bestEpoch: m.bestEpoch,
              bestValidationMacroAuc: m.validationMacroAuc,
              parameters: 0,
            })),
            bestValidationMacroAuc: macroAuc(predictInMemory(weights, val.std, val.rows), val.y, val.rows, 72),
            bestEpoch: Math.max(...members.map((m) => m.bestEpoch)),
            epochsRun: members.reduce((a, m) => a + m.epochsRun, 0),
            parameters: recipeParameters(chosen),
          };
        },
      )
    : await train1('model', o.model);
  const logistic = await train1('logistic', o.logistic);
  const course = await train1('course', o.course);
  for (const [name, t] of [
    ['model', model],
    ['logistic', logistic],
    ['course', course],
  ] as const) {
    const r = t.value;
    ctx.say(
      `train ${name}: validation macro AUC ${r.bestValidationMacroAuc.toFixed(4)}, ${r.members.length} network(s), best epochs ${r.members.map((m) => `${m.bestEpoch}/${m.history.length}`).join(', ')}${t.hit ? ' (cached)' : ''}`,
    );
  }
  return { model, logistic, course };
}

/** Calibration on the validation songs, folded into the output layer (rankings per country unchanged). */
export async function calibrateStep(
  ctx: StepContext,
  split: SplitStep,
  model: StepOutcome<EnsembleResult>,
  chosen: Recipe | null,
) {
  const { train, val } = split;
  const calibrated = await cachedStep(
    ctx.cache,
    'calibrate',
    { model: model.key, split: split.key, cv: !!chosen },
    async () => {
      await ctx.backend();
      const before = predictInMemory(model.value.weights, val.std, val.rows);
      // The recipe's per-country shift is −Σ weight·log w_c; as weights: exp(−shift).
      const w = chosen
        ? recipeShift(chosen, train.y, train.rows).map((v) => Math.exp(-v))
        : positiveWeights(train.y, train.rows, ctx.o.model);
      const calibration = fitCalibration(before, val.y, w);
      const weights = applyCalibration(model.value.weights, calibration);
      const after = predictInMemory(weights, val.std, val.rows);
      const k = COUNTRY_CODES.length;
      return {
        calibration,
        weights,
        validation: {
          before: computeMetrics(before, val.y, val.rows, k),
          after: computeMetrics(after, val.y, val.rows, k),
        },
      };
    },
  );
  const cv = calibrated.value.validation;
  ctx.say(
    `calibrate: a ${calibrated.value.calibration.a.toFixed(3)}, b ${calibrated.value.calibration.b.toFixed(3)}; validation Brier ${cv.before.brier.toFixed(4)} → ${cv.after.brier.toFixed(4)}, top-5 hit ${cv.before.top5Hit.toFixed(4)} → ${cv.after.top5Hit.toFixed(4)}, micro AUC ${cv.before.microAuc.toFixed(4)} → ${cv.after.microAuc.toFixed(4)}`,
  );
  return calibrated;
}

export type Calibrated = Awaited<ReturnType<typeof calibrateStep>>;

/** Step 6: evaluate on the test songs, beside the baselines. */
export function evaluateStep(ctx: StepContext, split: SplitStep, calibrated: Calibrated, trained: TrainedOnSplit) {
  const { train, test } = split;
  const { logistic, course } = trained;
  return cachedStep(
    ctx.cache,
    'evaluate',
    { split: split.key, model: calibrated.key, logistic: logistic.key, course: course.key },
    async () => {
      await ctx.backend();
      const modelTest = predictInMemory(calibrated.value.weights, test.std, test.rows);
      const trainPositives = COUNTRY_CODES.map((_, c) => {
        let n = 0;
        for (let r = 0; r < train.rows; r++) n += train.y[r * COUNTRY_CODES.length + c] as number;
        return n;
      });
      const baselines = {
        prior: priorPredictions(trainPositives, train.rows, test.rows),
        logistic: predictInMemory(logistic.value.weights, test.std, test.rows),
        'course-net': predictInMemory(course.value.weights, test.std, test.rows),
      };
      const { prior: _constant, ...ranked } = baselines;
      return {
        modelTest,
        evaluation: buildEvaluation('test', test.y, test.rows, modelTest, baselines),
        // How much the test score could move with other songs: 200 paired resamples of the test songs.
        bootstrap: bootstrapMacroAuc(
          { model: modelTest, ...ranked },
          'logistic',
          test.y,
          test.rows,
          COUNTRY_CODES.length,
          200,
          deriveSeed(ctx.o.seed, 'bootstrap'),
        ),
      };
    },
  );
}

export type Evaluated = Awaited<ReturnType<typeof evaluateStep>>;

export interface ProductionModel {
  readonly dir: string;
  readonly version: string;
  readonly modelJson: unknown;
  readonly weights: Uint8Array;
  /** trees.bin, when production has boosted trees. */
  readonly trees?: Uint8Array;
  readonly parameters: unknown;
}

/** The production model on the same held-out songs (raw inputs, float64 reference forward pass). */
export function scoreProduction(
  ctx: StepContext,
  prod: ProductionModel | null,
  split: SplitStep,
): ProductionScore | undefined {
  const { test } = split;
  // A production model refit on every song has trained on these test songs: its score here would flatter it.
  const prodSawTest = !!(prod?.parameters as { recipe?: unknown } | undefined)?.recipe;
  if (prod && prodSawTest) ctx.say(`production ${prod.version} was refit on all songs: not scored on the test split`);
  if (!prod || prodSawTest) return undefined;
  const parsed = parseDenseModel(prod.modelJson, prod.weights.slice().buffer as ArrayBuffer, prod.trees);
  if (!parsed.ok) {
    ctx.say(`production model at ${prod.dir} could not be loaded (${JSON.stringify(parsed.details)}): not compared`);
    return undefined;
  }
  const k = COUNTRY_CODES.length;
  const p = new Float32Array(test.rows * k);
  for (let r = 0; r < test.rows; r++) {
    p.set(predictReference(parsed.value, test.raw.subarray(r * 13, (r + 1) * 13)), r * k);
  }
  return { dir: prod.dir, version: prod.version, metrics: computeMetrics(p, test.y, test.rows, k) };
}
