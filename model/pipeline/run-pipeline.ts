/**
 * The pipeline end to end: ingest → validate → targets → split → train (model
 * + baselines) → evaluate → gate → export → parity → reference → manifest +
 * card, each step cached by content hash; every run is recorded in the runs
 * directory whatever its outcome. Publishes to `out` only if the gate and
 * the parity check pass.
 */

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  COUNTRY_CODES,
  contentVersion,
  type DataSource,
  FEATURE_NAMES,
  type Manifest,
  ManifestSchema,
  type ModelFile,
  trainingSongKey,
} from '../contract/index.ts';
import { parseDenseModel, predictReference } from '../runtime/dense-model.ts';
import { rocAuc } from '../stats/roc-auc.ts';
import { useBackend } from './backend.ts';
import { cachedStep, createCache, type StepCache } from './cache.ts';
import { applyCalibration, fitCalibration, fitPlatt } from './calibrate.ts';
import {
  fitFold,
  foldRecipe,
  foldScalerFor,
  matricesOf,
  partMembers,
  productionRecipe,
  type Recipe,
  recipeLogits,
  recipeParameters,
  recipeShift,
  refitEpochs,
  sameRecipe,
  trainRecipes,
} from './candidates.ts';
import { buildCard, type ModelCard, renderCardMarkdown } from './card.ts';
import { countryFacts, featureBounds } from './country-facts.ts';
import {
  type CvRun,
  type CvSettings,
  candidateInterval,
  crossValidate,
  innerSplit,
  type PairedDifference,
  pairedDifference,
} from './cross-validate.ts';
import { storedParameters } from './ensemble.ts';
import { buildEvaluation, type ProductionScore, predictInMemory, priorPredictions } from './evaluate.ts';
import { exportLayersModel, foldScaler } from './export-model.ts';
import type { RecentOutcome } from './from-server.ts';
import { type RecentComparison, runCvGate, runGate } from './gate.ts';
import { fileSha256, ingestFiles } from './ingest.ts';
import { bootstrapMacroAuc, computeMetrics, macroAuc } from './metrics.ts';
import { checkParity, deviceParitySection, PARITY_TOLERANCE, predictExported } from './parity.ts';
import { deriveSeed } from './prng.ts';
import { PipelineError } from './problems.ts';
import { trainingProgress } from './progress.ts';
import { referenceProfile } from './reference-profile.ts';
import { newRunId, type RunRecord, recordRun } from './runs.ts';
import { applyScaler, fitScaler, type Scaler } from './scaler.ts';
import { type Selection, selectCandidate } from './select-candidate.ts';
import { type SplitResult, splitBySong } from './split.ts';
import { buildTargets, featureMatrix, labelMatrix, type Song } from './targets.ts';
import { splitByTime } from './time-order.ts';
import { type EnsembleParams, type EnsembleResult, positiveWeights, trainEnsemble } from './train.ts';
import { validateTables } from './validate.ts';

export type NetworkParams = Omit<EnsembleParams, 'seed'>;

export interface PipelineOptions {
  readonly data: readonly string[];
  /** Where to publish model.json, weights.bin, manifest.json, card.md, card.json; null = evaluate only. */
  readonly out: string | null;
  readonly seed: number;
  readonly cacheDir: string | null;
  readonly runsDir: string;
  /** Directory of the production model to compare with; null or missing = none. */
  readonly production: string | null;
  readonly validationShare: number;
  readonly testShare: number;
  readonly model: NetworkParams;
  readonly logistic: NetworkParams;
  readonly course: NetworkParams;
  readonly gateTolerance: number;
  /** Max abs difference allowed between the exported files and the trained model (≤ 1e-5). */
  readonly parityTolerance: number;
  readonly progress: boolean;
  /** Log lines (one per step); quiet runs pass a no-op. */
  readonly log: (line: string) => void;
  /** Where a `data` file came from when it is not a plain file (e.g. a server export), by its path. */
  readonly origins?: Readonly<Record<string, DataSource>>;
  /** Recent field outcomes; the gate compares candidate and production on those of songs not trained on. */
  readonly recentOutcomes?: readonly RecentOutcome[];
  /** Fewest recent (song, country) pairs for that comparison to count (default 50). */
  readonly recentMinPairs?: number;
  /**
   * Cross-validation over all songs decides selection and the gate, and the chosen recipe is refit on every
   * song for export; the single split stays as the final held-out report. Null/absent: the single split decides.
   */
  readonly cv?: CvOptions | null;
  /** First date per song id (field outcomes): with cross-validation, also a time-ordered evaluation. */
  readonly songDates?: Readonly<Record<string, string>>;
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

export interface CvOptions {
  readonly settings: CvSettings;
  /** Candidates; must include one named `logistic` (the reference). */
  readonly recipes: readonly Recipe[];
  /** The candidate the gate judges when none beats logistic regression beyond noise. */
  readonly fallback: string;
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

/** The model that ships: chosen on the validation split only. */
export const DEFAULT_MODEL: NetworkParams = {
  hidden: [128, 64],
  dropout: 0.3,
  l2: 1e-4,
  learningRate: 3e-3,
  batchSize: 64,
  maxEpochs: 200,
  patience: 20,
  positiveWeighting: 'sqrt',
  maxPositiveWeight: 10,
  softmaxWeight: 0.2,
  members: 3,
};

/** Logistic regression: no hidden layer, plain BCE; learning rate set on validation so it converges (a fair baseline). */
export const LOGISTIC: NetworkParams = {
  hidden: [],
  dropout: 0,
  l2: 0,
  learningRate: 3e-2,
  batchSize: 64,
  maxEpochs: 200,
  patience: 30,
  positiveWeighting: 'none',
  maxPositiveWeight: 1,
  softmaxWeight: 0,
  members: 1,
};

/** The course's network 13→32→64→128→256→72, plain BCE, as a comparison row. */
export const COURSE_NET: NetworkParams = {
  hidden: [32, 64, 128, 256],
  dropout: 0,
  l2: 0,
  learningRate: 1e-3,
  batchSize: 32,
  maxEpochs: 200,
  patience: 15,
  positiveWeighting: 'none',
  maxPositiveWeight: 1,
  softmaxWeight: 0,
  members: 1,
};

export const DEFAULT_OPTIONS: Omit<PipelineOptions, 'data' | 'out' | 'log'> = {
  seed: 42,
  cacheDir: '.cache/pipeline',
  runsDir: '.runs',
  production: 'public/models/default',
  validationShare: 0.15,
  testShare: 0.15,
  model: DEFAULT_MODEL,
  logistic: LOGISTIC,
  course: COURSE_NET,
  gateTolerance: 0.01,
  parityTolerance: PARITY_TOLERANCE,
  progress: true,
};

export interface PipelineResult {
  readonly record: RunRecord;
  readonly manifest?: Manifest;
  readonly card?: ModelCard;
}

interface SplitData {
  readonly split: SplitResult;
  readonly scaler: Scaler;
}

/** HEAD, marked "+dirty" when the model code has uncommitted changes (the commit alone would not reproduce it). */
function codeCommit(): string {
  try {
    const git = (args: string[]) =>
      execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const head = git(['rev-parse', 'HEAD']);
    return git(['status', '--porcelain', '--', 'model']) === '' ? head : `${head}+dirty`;
  } catch {
    return 'unknown';
  }
}

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

interface Matrices {
  readonly raw: Float32Array;
  readonly std: Float32Array;
  readonly y: Float32Array;
  readonly rows: number;
}
function matrices(songs: readonly Song[], scaler: Scaler): Matrices {
  const raw = featureMatrix(songs);
  return { raw, std: applyScaler(raw, scaler), y: labelMatrix(songs), rows: songs.length };
}

async function loadProduction(
  dir: string | null,
): Promise<{ dir: string; version: string; modelJson: unknown; weights: Uint8Array; parameters: unknown } | null> {
  if (!dir) return null;
  try {
    const [modelJson, weights, manifestText] = await Promise.all([
      readFile(join(dir, 'model.json'), 'utf8'),
      readFile(join(dir, 'weights.bin')),
      readFile(join(dir, 'manifest.json'), 'utf8').catch(() => '{}'),
    ]);
    let version = 'unversioned';
    let parameters: unknown;
    try {
      const m = JSON.parse(manifestText) as { version?: string; lineage?: { parameters?: unknown } };
      version = m.version ?? version;
      parameters = m.lineage?.parameters;
    } catch {
      // An unreadable manifest does not stop us scoring the weights.
    }
    let parsedJson: unknown;
    try {
      parsedJson = JSON.parse(modelJson);
    } catch {
      parsedJson = null; // parseDenseModel reports it as unloadable
    }
    return { dir, version, modelJson: parsedJson, weights: new Uint8Array(weights), parameters };
  } catch {
    return null;
  }
}

export async function runPipeline(o: PipelineOptions): Promise<PipelineResult> {
  if (!(o.parityTolerance > 0 && o.parityTolerance <= PARITY_TOLERANCE)) {
    throw new Error(`parityTolerance must be in (0, ${PARITY_TOLERANCE}], got ${o.parityTolerance}`);
  }
  const started = Date.now();
  const runId = newRunId(new Date(started));
  const cache: StepCache = createCache(o.cacheDir);
  const parameters = {
    seed: o.seed,
    validationShare: o.validationShare,
    testShare: o.testShare,
    model: o.model,
    logistic: o.logistic,
    course: o.course,
    gateTolerance: o.gateTolerance,
    ...(o.cv ? { cv: o.cv.settings } : {}),
  };
  const record: {
    -readonly [K in keyof RunRecord]: RunRecord[K];
  } = {
    runId,
    startedAt: new Date(started).toISOString(),
    status: 'failed',
    durationMs: 0,
    data: o.data.map((f) => ({ file: f })),
    parameters,
    out: o.out,
    steps: cache.log,
    messages: [],
  };
  const say = (line: string) => {
    record.messages.push(line);
    o.log(line);
  };

  try {
    // Steps 1–2: ingest + validate, keyed by the files' bytes.
    const hashes = await Promise.all(o.data.map((f) => fileSha256(f).catch(() => 'unreadable')));
    const data = await cachedStep(cache, 'data', { files: o.data.map((f, i) => ({ f, sha: hashes[i] })) }, async () => {
      const ing = await ingestFiles(o.data);
      if (!ing.ok)
        throw new PipelineError(
          ing.problems[0]?.code ?? 'csv-malformed',
          'input files could not be read',
          ing.problems,
        );
      const v = validateTables(ing.tables);
      if (!v.ok)
        throw new PipelineError(
          v.problems[0]?.code ?? 'invalid-value',
          v.truncated
            ? `input files failed validation (stopped after the first ${v.problems.length} problems)`
            : `input files failed validation (${v.problems.length} problems)`,
          v.problems,
        );
      return {
        rows: v.rows,
        report: v.report,
        sources: ing.tables.map((t) => ({ name: t.name, sha256: t.sha256, rows: t.rows.length, format: t.format })),
      };
    });
    record.data = data.value.sources.map((s, i) => ({ file: o.data[i] ?? s.name, ...s }));
    const rep = data.value.report;
    say(
      `validate: ${rep.rowsRead} rows read, ${rep.rowsKept} kept; fixed: ${rep.exactDuplicateRows} exact duplicate rows dropped, ${rep.songsWithConflictingFeatures} songs with conflicting features (${rep.rowsWithFeaturesReplaced} rows set to the song's most frequent values)`,
    );

    // Step 3: targets.
    const targets = await cachedStep(cache, 'targets', { data: data.key }, () => buildTargets(data.value.rows));
    say(
      `targets: ${targets.value.songs.length} songs (${targets.value.globalOnlySongs} only on the global chart, left out)`,
    );

    let backendReady = false;
    const ensureBackend = async () => {
      if (!backendReady) await useBackend('wasm');
      backendReady = true;
    };
    const prod = await loadProduction(o.production);

    // Cross-validation over all songs: every candidate on the same folds; selection and the gate read it.
    let cvOut: (CvOutcome & { chosen: Recipe; run: CvRun; key: string }) | undefined;
    if (o.cv) {
      const cvo = o.cv;
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
          await ensureBackend();
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
            (done, total) =>
              o.log(`cross-validation: fold ${done}/${total} (${((Date.now() - t0) / 1000).toFixed(0)} s)`),
          );
        },
      );
      const run = cvStep.value;
      const selection = selectCandidate(run.folds, recipes, cvo.fallback);
      const chosen = recipes.find((r) => r.name === selection.chosen);
      if (!chosen) throw new Error(`cross-validation has no candidate named ${selection.chosen}`);
      cvOut = {
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
      };
      for (const r of recipes) {
        const e = cvOut.estimates[r.name] as PairedDifference;
        say(
          `cross-validation ${r.name}: macro AUC ${e.macroAuc.mean.toFixed(4)} [${e.macroAuc.lo.toFixed(4)}, ${e.macroAuc.hi.toFixed(4)}], top-5 hit ${e.top5Hit.mean.toFixed(4)} [${e.top5Hit.lo.toFixed(4)}, ${e.top5Hit.hi.toFixed(4)}]${cvStep.hit ? ' (cached)' : ''}`,
        );
      }
      say(`selection: ${selection.reason}`);

      // Time-ordered: the chosen candidate and logistic regression trained on the earlier songs, tested on the later.
      const byTime = o.songDates ? splitByTime(songs, o.songDates) : null;
      if (byTime) {
        const both = recipes.filter((r) => r.name === chosen.name || r.name === 'logistic');
        const timed = await cachedStep(
          cache,
          'time-ordered',
          { targets: targets.key, recipes: both, dates: o.songDates, seed: o.seed },
          async (): Promise<TimeOrderedReport> => {
            await ensureBackend();
            const inner = innerSplit(byTime.train, cvo.settings.innerValidationShare, deriveSeed(o.seed, 'time-inner'));
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
        cvOut = { ...cvOut, timeOrdered: timed.value };
        for (const [name, m] of Object.entries(timed.value.scores)) {
          say(
            `time-ordered ${name}: trained on ${timed.value.trainSongs} songs (dated until ${timed.value.trainUntil ?? '-'}), tested on ${timed.value.testSongs} songs from ${timed.value.from} to ${timed.value.to}: macro AUC ${m.macroAuc.toFixed(4)}, top-5 hit ${m.top5Hit.toFixed(4)}`,
          );
        }
      }
    }

    // Step 4: split by song; the scaler is fitted on the training songs only.
    const split = await cachedStep(
      cache,
      'split',
      { targets: targets.key, seed: o.seed, v: o.validationShare, t: o.testShare },
      (): SplitData => {
        const s = splitBySong(targets.value.songs, {
          seed: o.seed,
          validationShare: o.validationShare,
          testShare: o.testShare,
        });
        return { split: s, scaler: fitScaler(featureMatrix(s.train), s.train.length, FEATURE_NAMES.length) };
      },
    );
    const { split: sp, scaler } = split.value;
    say(`split: ${sp.train.length} train / ${sp.validation.length} validation / ${sp.test.length} test songs`);
    const train = matrices(sp.train, scaler);
    const val = matrices(sp.validation, scaler);
    const test = matrices(sp.test, scaler);

    // Step 5: train the model and the trained baselines.
    const trainStep = (name: string, p: NetworkParams) =>
      cachedStep(
        cache,
        `train-${name}`,
        { split: split.key, params: p, seed: o.seed },
        async (): Promise<EnsembleResult> => {
          await ensureBackend();
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
    const model = cvOut
      ? await cachedStep(
          cache,
          'train-recipe',
          { split: split.key, recipe: cvOut.chosen, seed: o.seed },
          async (): Promise<EnsembleResult> => {
            await ensureBackend();
            const recipe = (cvOut as { chosen: Recipe }).chosen;
            const trained = await trainRecipes(
              [recipe],
              { x: train.std, y: train.y, rows: train.rows },
              { x: val.std, y: val.y, rows: val.rows },
              o.seed,
            );
            const members = recipe.parts.flatMap((p) => partMembers(p, trained, o.seed));
            const weights = foldRecipe(recipe, trained, o.seed);
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
              parameters: recipeParameters(recipe),
            };
          },
        )
      : await trainStep('model', o.model);
    const logistic = await trainStep('logistic', o.logistic);
    const course = await trainStep('course', o.course);
    record.validation = {
      model: model.value.bestValidationMacroAuc,
      logistic: logistic.value.bestValidationMacroAuc,
      course: course.value.bestValidationMacroAuc,
    };
    for (const [name, t] of [
      ['model', model],
      ['logistic', logistic],
      ['course', course],
    ] as const) {
      const r = t.value;
      say(
        `train ${name}: validation macro AUC ${r.bestValidationMacroAuc.toFixed(4)}, ${r.members.length} network(s), best epochs ${r.members.map((m) => `${m.bestEpoch}/${m.history.length}`).join(', ')}${t.hit ? ' (cached)' : ''}`,
      );
    }

    // Calibration on the validation songs, folded into the output layer (rankings per country unchanged).
    const calibrated = await cachedStep(
      cache,
      'calibrate',
      { model: model.key, split: split.key, cv: !!cvOut },
      async () => {
        await ensureBackend();
        const before = predictInMemory(model.value.weights, val.std, val.rows);
        // The recipe's per-country shift is −Σ weight·log w_c; as weights: exp(−shift).
        const w = cvOut
          ? recipeShift(cvOut.chosen, train.y, train.rows).map((v) => Math.exp(-v))
          : positiveWeights(train.y, train.rows, o.model);
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
    say(
      `calibrate: a ${calibrated.value.calibration.a.toFixed(3)}, b ${calibrated.value.calibration.b.toFixed(3)}; validation Brier ${cv.before.brier.toFixed(4)} → ${cv.after.brier.toFixed(4)}, top-5 hit ${cv.before.top5Hit.toFixed(4)} → ${cv.after.top5Hit.toFixed(4)}, micro AUC ${cv.before.microAuc.toFixed(4)} → ${cv.after.microAuc.toFixed(4)}`,
    );

    // Step 6: evaluate on the test songs, beside the baselines.
    const evaluation = await cachedStep(
      cache,
      'evaluate',
      { split: split.key, model: calibrated.key, logistic: logistic.key, course: course.key },
      async () => {
        await ensureBackend();
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
            deriveSeed(o.seed, 'bootstrap'),
          ),
        };
      },
    );
    const ev = evaluation.value.evaluation;

    // The production model on the same held-out songs (raw inputs, float64 reference forward pass).
    let production: ProductionScore | undefined;
    // A production model refit on every song has trained on these test songs: its score here would flatter it.
    const prodSawTest = !!(prod?.parameters as { recipe?: unknown } | undefined)?.recipe;
    if (prod && prodSawTest) say(`production ${prod.version} was refit on all songs: not scored on the test split`);
    if (prod && !prodSawTest) {
      const parsed = parseDenseModel(prod.modelJson, prod.weights.slice().buffer as ArrayBuffer);
      if (parsed.ok) {
        const k = COUNTRY_CODES.length;
        const p = new Float32Array(test.rows * k);
        for (let r = 0; r < test.rows; r++) {
          p.set(predictReference(parsed.value, test.raw.subarray(r * 13, (r + 1) * 13)), r * k);
        }
        production = { dir: prod.dir, version: prod.version, metrics: computeMetrics(p, test.y, test.rows, k) };
      } else {
        say(`production model at ${prod.dir} could not be loaded (${JSON.stringify(parsed.details)}): not compared`);
      }
    }

    // The refit: the chosen recipe on every song, each network for the median best epoch of the folds,
    // calibrated on the out-of-fold scores of the first repeat (every song scored once by a model that did not
    // train on it).
    const refit = cvOut
      ? await cachedStep(cache, 'refit', { cv: cvOut.key, recipe: cvOut.chosen, seed: o.seed }, async () => {
          await ensureBackend();
          const c = cvOut as NonNullable<typeof cvOut>;
          const songs = targets.value.songs;
          const scalerAll = foldScalerFor(songs);
          const all = matricesOf(songs, scalerAll);
          const epochs = refitEpochs(c.chosen, c.folds);
          const trained = await trainRecipes([c.chosen], all, null, o.seed, epochs);
          const shift = recipeShift(c.chosen, all.y, all.rows);
          const oof = c.run.outOfFold[c.chosen.name];
          if (!oof) throw new Error(`no out-of-fold scores for ${c.chosen.name}`);
          const platt = fitPlatt(oof, all.y);
          const calibration = platt.a > 0 ? { shift, ...platt } : { shift, a: 1, b: 0 };
          return {
            weights: applyCalibration(foldRecipe(c.chosen, trained, o.seed), calibration),
            scaler: scalerAll,
            songs: songs.length,
            epochs: Object.fromEntries(
              c.chosen.parts.map((p, i) => [
                `part ${i + 1} (hidden ${JSON.stringify(p.params.hidden)})`,
                [...epochs.values()][i] ?? 0,
              ]),
            ),
            calibration: { a: calibration.a, b: calibration.b },
          };
        })
      : undefined;
    if (cvOut && refit) {
      cvOut = {
        ...cvOut,
        refit: { songs: refit.value.songs, epochs: refit.value.epochs, calibration: refit.value.calibration },
      };
      say(
        `refit: ${cvOut.chosen.name} on all ${refit.value.songs} songs, epochs ${JSON.stringify(refit.value.epochs)}, calibration a ${refit.value.calibration.a.toFixed(3)}, b ${refit.value.calibration.b.toFixed(3)} (out-of-fold)${refit.hit ? ' (cached)' : ''}`,
      );
    }
    /** What ships: standardised-input weights and their scaler (the refit, or the split-trained model). */
    const ship = refit
      ? { weights: refit.value.weights, scaler: refit.value.scaler, key: refit.key }
      : { weights: calibrated.value.weights, scaler, key: calibrated.key };

    // Recent field outcomes on songs the candidate never trained on (test split or not in the data at all).
    let recent: RecentComparison | undefined;
    if (o.recentOutcomes && o.recentOutcomes.length > 0) {
      await ensureBackend();
      const seen = new Set((refit ? targets.value.songs : [...sp.train, ...sp.validation]).map((s) => s.id));
      const held = o.recentOutcomes.filter((r) => !seen.has(r.song));
      const songs = [...new Set(held.map((r) => r.song))];
      const row = new Map(songs.map((s, i) => [s, i]));
      const raw = new Float32Array(songs.length * 13);
      for (const r of held) raw.set(r.x, (row.get(r.song) as number) * 13);
      const k = COUNTRY_CODES.length;
      const cand =
        songs.length > 0
          ? predictInMemory(ship.weights, applyScaler(raw, ship.scaler), songs.length)
          : new Float32Array();
      const parsedProd = prod ? parseDenseModel(prod.modelJson, prod.weights.slice().buffer as ArrayBuffer) : null;
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
      recent = {
        pairs: held.length,
        songs: songs.length,
        minPairs: o.recentMinPairs ?? 50,
        candidateAuc: rocAuc(candScores, labels),
        productionAuc: parsedProd?.ok ? rocAuc(prodScores, labels) : null,
      };
      say(
        `recent outcomes: ${held.length} of ${o.recentOutcomes.length} (song, country) pairs on ${songs.length} songs not trained on; AUC candidate ${recent.candidateAuc?.toFixed(4) ?? '-'}, production ${recent.productionAuc?.toFixed(4) ?? '-'}`,
      );
    }

    // Gate: on cross-validation when it ran (the test split is then only a report), else on the test split.
    const gate = cvOut
      ? runCvGate({
          candidate: cvOut.chosen.name,
          vsLogistic:
            cvOut.vsLogistic[cvOut.chosen.name] ?? pairedDifference(cvOut.folds, cvOut.chosen.name, 'logistic'),
          production: cvOut.production
            ? {
                version: cvOut.production.version,
                sameRecipe: cvOut.production.matched === cvOut.chosen.name,
                difference: pairedDifference(cvOut.folds, cvOut.chosen.name, cvOut.production.matched),
                candidateSimpler:
                  recipeParameters(cvOut.chosen) <=
                  (cvOut.recipes.find((r) => r.name === cvOut?.production?.matched)?.parameters ?? 0),
              }
            : prod
              ? { version: prod.version, sameRecipe: false, candidateSimpler: false }
              : undefined,
          recent,
          tolerance: o.gateTolerance,
        })
      : runGate({
          recent,
          candidate: ev.model,
          logistic: ev.baselines.logistic as NonNullable<(typeof ev.baselines)['logistic']>,
          production: production ? { version: production.version, metrics: production.metrics } : undefined,
          tolerance: o.gateTolerance,
        });
    record.metrics = {
      model: ev.model,
      baselines: ev.baselines,
      ...(production ? { production: production.metrics } : {}),
    };
    record.gate = gate;
    if (cvOut) {
      const { chosen: _c, run: _r, key: _k, ...rest } = cvOut;
      record.crossValidation = rest;
    }
    for (const c of gate.checks) say(`gate: ${c.passed ? 'pass' : 'FAIL'}: ${c.message}`);

    // Steps 7–8: export (scaling folded in) and parity with the browser's loader.
    const exported = await cachedStep(cache, 'export', { model: ship.key, split: split.key }, async () => {
      await ensureBackend();
      const raw = foldScaler(ship.weights, ship.scaler);
      const hidden = raw.layers.slice(0, -1).map((l) => l.units);
      return exportLayersModel(raw, hidden, o.model.dropout, o.seed);
    });
    const parity = await cachedStep(
      cache,
      'parity',
      { export: exported.key, evaluate: evaluation.key, ship: ship.key, tolerance: o.parityTolerance },
      async () => {
        await ensureBackend();
        // Against the in-memory model that ships (the refit scores the test songs with its own scaler).
        const expected = refit
          ? predictInMemory(ship.weights, applyScaler(test.raw, ship.scaler), test.rows)
          : evaluation.value.modelTest;
        return {
          report: await checkParity(exported.value, test.raw, test.rows, expected, o.parityTolerance),
          section: await deviceParitySection(exported.value, test.raw, test.rows, FEATURE_NAMES.length),
        };
      },
    );
    record.parity = parity.value.report;
    say(
      `parity: max abs diff ${parity.value.report.maxAbsDiff.toExponential(2)} on ${parity.value.report.rows} test songs (tolerance ${parity.value.report.tolerance})`,
    );
    if (!parity.value.report.passed) {
      throw new PipelineError(
        'parity-failed',
        `exported model differs from the trained model by ${parity.value.report.maxAbsDiff}`,
      );
    }

    // Reference profile on train + validation songs, with the exported model's outputs.
    // (the refit's: all songs, which include test songs it trained on)
    const reference = await cachedStep(cache, 'reference', { export: exported.key, split: split.key }, async () => {
      await ensureBackend();
      if (refit) {
        const all = featureMatrix(targets.value.songs);
        const n = targets.value.songs.length;
        return referenceProfile(all, await predictExported(exported.value, all, n), n);
      }
      const rows = train.rows + val.rows;
      const raw = new Float32Array(rows * FEATURE_NAMES.length);
      raw.set(train.raw, 0);
      raw.set(val.raw, train.raw.length);
      return referenceProfile(raw, await predictExported(exported.value, raw, rows), rows);
    });

    // What a device reads a prediction against: base rates and bounds on the songs the shipped model learned from
    // (train + validation, or every song for a refit, as the reference profile), AUC intervals on the held-out songs
    // of the untouched single-split report.
    const learned = refit ? [train, val, test] : [train, val];
    const learnedRows = learned.reduce((n, part) => n + part.rows, 0);
    const fitY = concatRows(learned.map((part) => part.y));
    const fitRaw = concatRows(learned.map((part) => part.raw));
    const facts = countryFacts(fitY, learnedRows, test.y, test.rows, ev.perCountryAuc);
    const bounds = featureBounds(fitRaw, learnedRows);
    const learnedSongs = refit ? [...sp.train, ...sp.validation, ...sp.test] : [...sp.train, ...sp.validation];

    // Manifest and card.
    const files: ModelFile[] = [
      {
        path: 'model.json',
        sha256: sha256(exported.value.modelJson),
        bytes: Buffer.byteLength(exported.value.modelJson),
      },
      { path: 'weights.bin', sha256: sha256(exported.value.weightsBin), bytes: exported.value.weightsBin.byteLength },
    ];
    const version = await contentVersion(files);
    const bare = ManifestSchema.parse({
      schemaVersion: 1,
      version,
      createdAt: new Date().toISOString(),
      format: 'tfjs-layers',
      files,
      input: { features: [...FEATURE_NAMES], dtype: 'float32', scaling: 'inside-model' },
      output: { countries: [...COUNTRY_CODES], activation: 'sigmoid' },
      architecture: {
        hidden: ship.weights.layers.slice(0, -1).map((l) => l.units),
        activation: 'relu',
        parameters: refit ? storedParameters(ship.weights) : model.value.parameters,
      },
      evaluation: ev,
      lineage: {
        datasets: data.value.sources.map((s) => ({ name: s.name, sha256: s.sha256, rows: s.rows })),
        sources: data.value.sources.map(
          (s, i): DataSource =>
            o.origins?.[o.data[i] ?? ''] ?? { kind: 'file', name: s.name, sha256: s.sha256, rows: s.rows },
        ),
        codeCommit: codeCommit(),
        parameters: cvOut
          ? {
              ...parameters,
              recipe: { name: cvOut.chosen.name, parts: cvOut.chosen.parts },
              crossValidation: {
                estimate: cvOut.estimates[cvOut.chosen.name],
                logistic: cvOut.estimates.logistic,
                refitSongs: cvOut.refit?.songs,
              },
            }
          : parameters,
        seed: o.seed,
        ...(production && production.version !== version ? { parent: production.version } : {}),
        runId,
        // Which songs it learned from, so field performance can be judged on the others (server/alerts).
        trainingSongs: (await Promise.all(learnedSongs.map((x) => trainingSongKey(x.id)))).sort(),
      },
      reference: reference.value,
      parity: parity.value.section,
      countryFacts: facts,
      featureBounds: bounds,
    }) as Manifest;
    const card = buildCard({
      manifest: bare,
      validation: data.value.report,
      songs: { train: train.rows, validation: val.rows, test: test.rows, globalOnly: targets.value.globalOnlySongs },
      training: { model: model.value, logistic: logistic.value, course: course.value },
      modelTest: evaluation.value.modelTest,
      testRaw: test.raw,
      testRows: test.rows,
      gate,
      production,
      parity: parity.value.report,
      calibration: calibrated.value.calibration,
      calibrationValidation: calibrated.value.validation,
      bootstrap: evaluation.value.bootstrap,
      ...(cvOut ? { crossValidation: { ...cvOut, chosen: cvOut.chosen.name } } : {}),
    });
    const sourceNames = bare.lineage.sources
      ? bare.lineage.sources.map((d) => (d.kind === 'server-export' ? `${d.name} from ${d.url ?? 'a server'}` : d.name))
      : bare.lineage.datasets.map((d) => d.name);
    const manifest = ManifestSchema.parse({
      ...bare,
      card: {
        intendedUse: card.intendedUse,
        limits: [...card.limits],
        trainedOn: cvOut?.refit
          ? `${sourceNames.join(' + ')}: all ${cvOut.refit.songs} songs (refit after ${cvOut.settings.folds}-fold × ${cvOut.settings.repeats} cross-validation chose ${cvOut.chosen.name}; cross-validated macro AUC ${cvOut.estimates[cvOut.chosen.name]?.macroAuc.mean.toFixed(4)}, top-5 hit ${cvOut.estimates[cvOut.chosen.name]?.top5Hit.mean.toFixed(4)}).`
          : `${sourceNames.join(' + ')}: ${train.rows} training, ${val.rows} validation and ${test.rows} test songs (split by song, seed ${o.seed}).`,
        gate: gate.checks.map((c) => `${c.passed ? 'pass' : 'FAIL'}: ${c.message}`),
      },
    }) as Manifest;
    record.version = version;

    if (!gate.passed) {
      record.status = 'gate-failed';
      throw new PipelineError(
        'gate-failed',
        gate.checks
          .filter((c) => !c.passed)
          .map((c) => c.message)
          .join('; '),
      );
    }
    if (o.out) {
      await mkdir(o.out, { recursive: true });
      const artifacts: [string, string | Uint8Array][] = [
        ['model.json', exported.value.modelJson],
        ['weights.bin', exported.value.weightsBin],
        ['manifest.json', `${JSON.stringify(manifest, null, 2)}\n`],
        ['card.json', `${JSON.stringify(card, null, 2)}\n`],
        ['card.md', renderCardMarkdown(card)],
      ];
      for (const [name, body] of artifacts) await writeFile(join(o.out, name), body);
      record.artifacts = artifacts.map(([name, body]) => ({
        path: join(o.out as string, name),
        sha256: sha256(body),
        bytes: typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength,
      }));
      say(`published ${version} to ${o.out}`);
    } else {
      say(`model ${version} passed; no --out given, nothing published`);
    }
    record.status = o.out ? 'published' : 'passed';
    return { record, manifest, card };
  } catch (e) {
    if (e instanceof PipelineError) {
      record.error = { code: e.code, message: e.message, problems: e.problems.length };
    } else {
      record.error = { code: 'internal', message: (e as Error).message, problems: 0 };
    }
    throw e;
  } finally {
    record.durationMs = Date.now() - started;
    await recordRun(o.runsDir, record as RunRecord);
  }
}

/** Row blocks of one width, stacked in order. */
function concatRows(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
