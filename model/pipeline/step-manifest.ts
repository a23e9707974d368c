/**
 * Steps 10–11: the manifest (with what a device reads a prediction against) and the model card, then
 * publishing the files to `--out` once the gate has passed.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  COUNTRY_CODES,
  contentVersion,
  type DataSource,
  FEATURE_NAMES,
  type Manifest,
  ManifestSchema,
  ModelCardSchema,
  type ModelFile,
  trainingSongKey,
} from '../contract/index.ts';
import { treeOpsPerSong } from '../runtime/tree-ensemble.ts';
import { buildCard, type ModelCard, renderCardMarkdown } from './card.ts';
import { countryFacts, featureBounds } from './country-facts.ts';
import { storedParameters } from './ensemble.ts';
import type { ProductionScore } from './evaluate.ts';
import type { GateResult } from './gate.ts';
import type { StepContext } from './step-context.ts';
import type { CvSelected } from './step-cv.ts';
import type { DataValue, SplitStep, Targets } from './step-data.ts';
import type { Exported } from './step-export.ts';
import type { Shipped } from './step-gate.ts';
import type { Calibrated, Evaluated, TrainedOnSplit } from './step-train.ts';

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

/**
 * Read when the pipeline's modules load, not when the manifest is written: a run takes an hour and the
 * checkout can move meanwhile (the 2026-12-03 default run recorded a later commit, +dirty, as its code).
 */
const COMMIT_AT_START = codeCommit();

export const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

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

export interface ManifestInputs {
  readonly runId: string;
  /** The run's parameters as recorded (the lineage adds the chosen recipe when cross-validation ran). */
  readonly parameters: Record<string, unknown>;
  readonly data: DataValue;
  readonly targets: Targets;
  readonly split: SplitStep;
  readonly trained: TrainedOnSplit;
  readonly calibrated: Calibrated;
  readonly evaluation: Evaluated;
  readonly production: ProductionScore | undefined;
  readonly cv: CvSelected | undefined;
  readonly ship: Shipped;
  readonly gate: GateResult;
  readonly exported: Exported;
  readonly parity: Awaited<ReturnType<typeof import('./step-export.ts').parityStep>>;
  readonly reference: Awaited<ReturnType<typeof import('./step-export.ts').referenceStep>>;
}

export async function manifestStep(
  ctx: StepContext,
  i: ManifestInputs,
): Promise<{ manifest: Manifest; card: ModelCard; version: string }> {
  const { o } = ctx;
  const { data, targets, split, cv, ship, gate, exported, parity, production } = i;
  const { train, val, test, sp } = split;
  const ev = i.evaluation.value.evaluation;
  // What a device reads a prediction against: base rates and bounds on the songs the shipped model learned from
  // (train + validation, or every song for a refit, as the reference profile), AUC intervals on the held-out songs
  // of the untouched single-split report.
  const learned = ship.refit ? [train, val, test] : [train, val];
  const learnedRows = learned.reduce((n, part) => n + part.rows, 0);
  const fitY = concatRows(learned.map((part) => part.y));
  const fitRaw = concatRows(learned.map((part) => part.raw));
  const facts = countryFacts(fitY, learnedRows, test.y, test.rows, ev.perCountryAuc);
  const bounds = featureBounds(fitRaw, learnedRows);
  const learnedSongs = ship.refit ? [...sp.train, ...sp.validation, ...sp.test] : [...sp.train, ...sp.validation];

  const files: ModelFile[] = [
    {
      path: 'model.json',
      sha256: sha256(exported.value.modelJson),
      bytes: Buffer.byteLength(exported.value.modelJson),
    },
    { path: 'weights.bin', sha256: sha256(exported.value.weightsBin), bytes: exported.value.weightsBin.byteLength },
    ...(exported.value.treesBin
      ? [{ path: 'trees.bin', sha256: sha256(exported.value.treesBin), bytes: exported.value.treesBin.byteLength }]
      : []),
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
      parameters: ship.refit ? storedParameters(ship.weights) : i.trained.model.value.parameters,
      ...(ship.weights.trees
        ? {
            trees: {
              count: ship.weights.trees.roots.length,
              leaves: ship.weights.trees.values.length / ship.weights.trees.outputs,
              depth: treeOpsPerSong(ship.weights.trees).depth,
            },
          }
        : {}),
    },
    evaluation: ev,
    lineage: {
      datasets: data.sources.map((s) => ({ name: s.name, sha256: s.sha256, rows: s.rows })),
      sources: data.sources.map(
        (s, k): DataSource =>
          o.origins?.[o.data[k] ?? ''] ?? { kind: 'file', name: s.name, sha256: s.sha256, rows: s.rows },
      ),
      codeCommit: COMMIT_AT_START,
      parameters: cv
        ? {
            ...i.parameters,
            recipe: { name: cv.chosen.name, parts: cv.chosen.parts },
            crossValidation: {
              estimate: cv.estimates[cv.chosen.name],
              logistic: cv.estimates.logistic,
              refitSongs: cv.refit?.songs,
            },
          }
        : i.parameters,
      seed: o.seed,
      ...(production && production.version !== version ? { parent: production.version } : {}),
      runId: i.runId,
      // Which songs it learned from, so field performance can be judged on the others (server/alerts).
      trainingSongs: (await Promise.all(learnedSongs.map((x) => trainingSongKey(x.id)))).sort(),
    },
    reference: i.reference.value,
    parity: parity.value.section,
    countryFacts: facts,
    featureBounds: bounds,
  }) as Manifest;
  const card = buildCard({
    manifest: bare,
    validation: data.report,
    songs: { train: train.rows, validation: val.rows, test: test.rows, globalOnly: targets.globalOnlySongs },
    training: { model: i.trained.model.value, logistic: i.trained.logistic.value, course: i.trained.course.value },
    modelTest: i.evaluation.value.modelTest,
    testRaw: test.raw,
    testRows: test.rows,
    gate,
    production,
    parity: parity.value.report,
    calibration: i.calibrated.value.calibration,
    calibrationValidation: i.calibrated.value.validation,
    bootstrap: i.evaluation.value.bootstrap,
    ...(cv ? { crossValidation: { ...cv, chosen: cv.chosen.name } } : {}),
  });
  const sourceNames = bare.lineage.sources
    ? bare.lineage.sources.map((d) => (d.kind === 'server-export' ? `${d.name} from ${d.url ?? 'a server'}` : d.name))
    : bare.lineage.datasets.map((d) => d.name);
  const manifest = ManifestSchema.parse({
    ...bare,
    card: {
      intendedUse: card.intendedUse,
      limits: [...card.limits],
      trainedOn: cv?.refit
        ? `${sourceNames.join(' + ')}: all ${cv.refit.songs} songs (refit after ${cv.settings.folds}-fold × ${cv.settings.repeats} cross-validation chose ${cv.chosen.name}; cross-validated macro AUC ${cv.estimates[cv.chosen.name]?.macroAuc.mean.toFixed(4)}, top-5 hit ${cv.estimates[cv.chosen.name]?.top5Hit.mean.toFixed(4)}).`
        : `${sourceNames.join(' + ')}: ${train.rows} training, ${val.rows} validation and ${test.rows} test songs (split by song, seed ${o.seed}).`,
      gate: gate.checks.map((c) => `${c.passed ? 'pass' : 'FAIL'}: ${c.message}`),
    },
  }) as Manifest;
  return { manifest, card, version };
}

/** Writes the model files, manifest and card to `out`; returns what was written (for the run record). */
export async function publishStep(
  ctx: StepContext,
  out: string,
  exported: Exported,
  manifest: Manifest,
  card: ModelCard,
): Promise<{ path: string; sha256: string; bytes: number }[]> {
  // A card devices would refuse (the contract's schema) is a pipeline bug: fail before publishing anything.
  ModelCardSchema.parse(card);
  await mkdir(out, { recursive: true });
  const artifacts: [string, string | Uint8Array][] = [
    ['model.json', exported.value.modelJson],
    ['weights.bin', exported.value.weightsBin],
    ...(exported.value.treesBin ? ([['trees.bin', exported.value.treesBin]] as [string, Uint8Array][]) : []),
    ['manifest.json', `${JSON.stringify(manifest, null, 2)}\n`],
    ['card.json', `${JSON.stringify(card, null, 2)}\n`],
    ['card.md', renderCardMarkdown(card)],
  ];
  for (const [name, body] of artifacts) await writeFile(join(out, name), body);
  ctx.say(`published ${manifest.version} to ${out}`);
  return artifacts.map(([name, body]) => ({
    path: join(out, name),
    sha256: sha256(body),
    bytes: typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength,
  }));
}
