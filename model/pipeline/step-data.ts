/**
 * Steps 1–4: ingest + validate (one cached step, keyed by the files' bytes),
 * one example per song, and the split by song with the scaler fitted on the
 * training songs.
 */
import { FEATURE_NAMES } from '../contract/index.ts';
import { cachedStep, type StepOutcome } from './cache.ts';
import { fileSha256, ingestFiles } from './ingest.ts';
import { PipelineError } from './problems.ts';
import { applyScaler, fitScaler, type Scaler } from './scaler.ts';
import { type SplitResult, splitBySong } from './split.ts';
import type { StepContext } from './step-context.ts';
import { buildTargets, featureMatrix, labelMatrix, type Song } from './targets.ts';
import { validateTables } from './validate.ts';

/** Ingest + validate: the rows that passed, the report of what was fixed, each source's hash. */
async function readData(files: readonly string[]) {
  const ing = await ingestFiles(files);
  if (!ing.ok)
    throw new PipelineError(ing.problems[0]?.code ?? 'csv-malformed', 'input files could not be read', ing.problems);
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
}

export type DataValue = Awaited<ReturnType<typeof readData>>;

/** Steps 1–2: ingest + validate, keyed by the files' bytes. */
export async function ingestStep(ctx: StepContext): Promise<StepOutcome<DataValue>> {
  const { o, cache } = ctx;
  const hashes = await Promise.all(o.data.map((f) => fileSha256(f).catch(() => 'unreadable')));
  const data = await cachedStep(cache, 'data', { files: o.data.map((f, i) => ({ f, sha: hashes[i] })) }, () =>
    readData(o.data),
  );
  const rep = data.value.report;
  ctx.say(
    `validate: ${rep.rowsRead} rows read, ${rep.rowsKept} kept; fixed: ${rep.exactDuplicateRows} exact duplicate rows dropped, ${rep.songsWithConflictingFeatures} songs with conflicting features (${rep.rowsWithFeaturesReplaced} rows set to the song's most frequent values)`,
  );
  return data;
}

export type Targets = ReturnType<typeof buildTargets>;

export async function targetsStep(ctx: StepContext, data: StepOutcome<DataValue>): Promise<StepOutcome<Targets>> {
  const targets = await cachedStep(ctx.cache, 'targets', { data: data.key }, () => buildTargets(data.value.rows));
  ctx.say(
    `targets: ${targets.value.songs.length} songs (${targets.value.globalOnlySongs} only on the global chart, left out)`,
  );
  return targets;
}

export interface Matrices {
  readonly raw: Float32Array;
  readonly std: Float32Array;
  readonly y: Float32Array;
  readonly rows: number;
}

export function matrices(songs: readonly Song[], scaler: Scaler): Matrices {
  const raw = featureMatrix(songs);
  return { raw, std: applyScaler(raw, scaler), y: labelMatrix(songs), rows: songs.length };
}

interface SplitData {
  readonly split: SplitResult;
  readonly scaler: Scaler;
}

export interface SplitStep {
  readonly key: string;
  readonly sp: SplitResult;
  readonly scaler: Scaler;
  readonly train: Matrices;
  readonly val: Matrices;
  readonly test: Matrices;
}

/** Step 4: split by song; the scaler is fitted on the training songs only. */
export async function splitStep(ctx: StepContext, targets: StepOutcome<Targets>): Promise<SplitStep> {
  const { o } = ctx;
  const split = await cachedStep(
    ctx.cache,
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
  ctx.say(`split: ${sp.train.length} train / ${sp.validation.length} validation / ${sp.test.length} test songs`);
  return {
    key: split.key,
    sp,
    scaler,
    train: matrices(sp.train, scaler),
    val: matrices(sp.validation, scaler),
    test: matrices(sp.test, scaler),
  };
}
