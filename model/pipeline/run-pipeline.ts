/**
 * The pipeline end to end, as named steps: ingest + validate → targets → cross-validate + select (+ time-ordered)
 * → split → train (model + baselines) → calibrate → evaluate → refit → gate → export → parity → reference →
 * manifest + card → publish; each step cached by content hash (`cache.ts`), every run registered in the runs
 * directory whatever its outcome. Publishes to `out` only if the gate and the parity check pass.
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DataSource, Manifest } from '../contract/index.ts';
import { createCache, type StepCache } from './cache.ts';
import type { ModelCard } from './card.ts';
import type { RecentOutcome } from './from-server.ts';
import { PARITY_TOLERANCE } from './parity.ts';
import { PipelineError } from './problems.ts';
import { newRunId, type RunRecord, recordRun } from './runs.ts';
import { type StepContext, stepContext } from './step-context.ts';
import { type CvOptions, crossValidateStep, refitStep, timeOrderedStep } from './step-cv.ts';
import { ingestStep, splitStep, targetsStep } from './step-data.ts';
import { exportStep, parityStep, referenceStep } from './step-export.ts';
import { compareRecent, gateStep, type Shipped } from './step-gate.ts';
import { manifestStep, publishStep } from './step-manifest.ts';
import { calibrateStep, evaluateStep, type ProductionModel, scoreProduction, trainStep } from './step-train.ts';
import type { EnsembleParams } from './train.ts';

export type { CvOptions, CvOutcome, TimeOrderedReport } from './step-cv.ts';

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

async function loadProduction(dir: string | null): Promise<ProductionModel | null> {
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
    // trees.bin only where production has trees (older models have none).
    const trees = await readFile(join(dir, 'trees.bin')).catch(() => null);
    return {
      dir,
      version,
      modelJson: parsedJson,
      weights: new Uint8Array(weights),
      ...(trees ? { trees: new Uint8Array(trees) } : {}),
      parameters,
    };
  } catch {
    return null;
  }
}

type MutableRecord = { -readonly [K in keyof RunRecord]: RunRecord[K] };

/** The run record as it starts: failed until a step says otherwise. */
function newRecord(o: PipelineOptions, runId: string, started: number, cache: StepCache): MutableRecord {
  return {
    runId,
    startedAt: new Date(started).toISOString(),
    status: 'failed',
    durationMs: 0,
    data: o.data.map((f) => ({ file: f })),
    parameters: recordedParameters(o),
    out: o.out,
    steps: cache.log,
    messages: [],
  };
}

function recordedParameters(o: PipelineOptions): Record<string, unknown> {
  return {
    seed: o.seed,
    validationShare: o.validationShare,
    testShare: o.testShare,
    model: o.model,
    logistic: o.logistic,
    course: o.course,
    gateTolerance: o.gateTolerance,
    ...(o.cv ? { cv: o.cv.settings } : {}),
  };
}

export async function runPipeline(o: PipelineOptions): Promise<PipelineResult> {
  if (!(o.parityTolerance > 0 && o.parityTolerance <= PARITY_TOLERANCE)) {
    throw new Error(`parityTolerance must be in (0, ${PARITY_TOLERANCE}], got ${o.parityTolerance}`);
  }
  const started = Date.now();
  const cache: StepCache = createCache(o.cacheDir);
  const record = newRecord(o, newRunId(new Date(started)), started, cache);
  const ctx = stepContext(o, cache, (line) => {
    record.messages.push(line);
    o.log(line);
  });
  try {
    return await runSteps(ctx, record);
  } catch (e) {
    record.error =
      e instanceof PipelineError
        ? { code: e.code, message: e.message, problems: e.problems.length }
        : { code: 'internal', message: (e as Error).message, problems: 0 };
    throw e;
  } finally {
    // Register the run, whatever its outcome.
    record.durationMs = Date.now() - started;
    await recordRun(o.runsDir, record as RunRecord);
  }
}

/** The steps in order; each one a function of the context and what the earlier steps produced. */
async function runSteps(ctx: StepContext, record: MutableRecord): Promise<PipelineResult> {
  const { o } = ctx;
  const data = await ingestStep(ctx);
  record.data = data.value.sources.map((s, i) => ({ file: o.data[i] ?? s.name, ...s }));
  const targets = await targetsStep(ctx, data);
  const prod = await loadProduction(o.production);

  let cv = o.cv ? await crossValidateStep(ctx, o.cv, targets, prod) : undefined;
  if (cv) cv = await timeOrderedStep(ctx, cv, targets);

  const split = await splitStep(ctx, targets);
  const trained = await trainStep(ctx, split, cv?.chosen ?? null);
  record.validation = {
    model: trained.model.value.bestValidationMacroAuc,
    logistic: trained.logistic.value.bestValidationMacroAuc,
    course: trained.course.value.bestValidationMacroAuc,
  };
  const calibrated = await calibrateStep(ctx, split, trained.model, cv?.chosen ?? null);
  const evaluation = await evaluateStep(ctx, split, calibrated, trained);
  const ev = evaluation.value.evaluation;
  const production = scoreProduction(ctx, prod, split);

  let ship: Shipped = { weights: calibrated.value.weights, scaler: split.scaler, key: calibrated.key, refit: false };
  if (cv) {
    const r = await refitStep(ctx, cv, targets);
    cv = r.cv;
    ship = { weights: r.refit.value.weights, scaler: r.refit.value.scaler, key: r.refit.key, refit: true };
  }

  const recent = await compareRecent(ctx, ship, targets.value, split, prod);
  const gate = gateStep(ctx, cv, ev, production, prod, recent);
  record.metrics = {
    model: ev.model,
    baselines: ev.baselines,
    ...(production ? { production: production.metrics } : {}),
  };
  record.gate = gate;
  if (cv) {
    const { chosen: _c, run: _r, key: _k, all: _a, ...rest } = cv;
    record.crossValidation = rest;
  }

  const exported = await exportStep(ctx, ship, split);
  const parity = await parityStep(ctx, exported, evaluation, ship, split);
  record.parity = parity.value.report;
  const reference = await referenceStep(ctx, exported, split, ship, targets.value);
  const { manifest, card, version } = await manifestStep(ctx, {
    runId: record.runId,
    parameters: record.parameters,
    data: data.value,
    targets: targets.value,
    split,
    trained,
    calibrated,
    evaluation,
    production,
    cv,
    ship,
    gate,
    exported,
    parity,
    reference,
  });
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
    record.artifacts = await publishStep(ctx, o.out, exported, manifest, card);
  } else {
    ctx.say(`model ${version} passed; no --out given, nothing published`);
  }
  record.status = o.out ? 'published' : 'passed';
  return { record, manifest, card };
}
