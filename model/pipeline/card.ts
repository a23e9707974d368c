/**
 * Step 9, model card (JSON + Markdown): data provenance with the dataset
 * credit and hashes, the metrics table beside the baselines, calibration, a
 * fairness line, intended use and limits. Everything in it is computed by
 * this run; nothing is typed in by hand except the use and limits prose.
 */
import {
  COUNTRY_CODES,
  type CountryCode,
  type DatasetCredit,
  type FairnessReport,
  type Manifest,
  type Metrics,
  type ModelCardContent,
  type ReliabilityBin,
} from '../contract/index.ts';
import type { Calibration } from './calibrate.ts';
import type { CvInterval, PairedDifference } from './cross-validate.ts';
import type { ProductionScore } from './evaluate.ts';
import type { GateResult } from './gate.ts';
import { type BootstrapInterval, topK } from './metrics.ts';
import type { ParityReport } from './parity.ts';
import type { TimeOrderedReport } from './run-pipeline.ts';
import type { EnsembleResult } from './train.ts';
import type { ValidationReport } from './validate.ts';

export const DATASET_CREDIT: DatasetCredit = {
  title: 'Top Spotify Songs in 73 Countries (Daily Updated)',
  author: 'asaniczka',
  source: 'Kaggle',
  url: 'https://www.kaggle.com/datasets/asaniczka/top-spotify-songs-in-73-countries-daily-updated',
};

export type { FairnessReport };

/** The cross-validation that chose the model and gated it (every candidate, losers included). */
export interface CvCardSection {
  readonly settings: { folds: number; repeats: number; innerValidationShare: number };
  readonly songs: number;
  readonly recipes: readonly { name: string; description: string; parameters: number }[];
  readonly estimates: Record<string, PairedDifference>;
  readonly vsLogistic: Record<string, PairedDifference>;
  readonly selection: { chosen: string; qualified: readonly string[]; reason: string };
  readonly chosen: string;
  readonly production?: { version: string; matched: string } | undefined;
  readonly refit?: { songs: number; epochs: Record<string, number>; calibration: { a: number; b: number } } | undefined;
  readonly timeOrdered?: TimeOrderedReport | undefined;
}

/** The contract's card (`ModelCardSchema`, what devices read) with the pipeline's full sections. */
export interface ModelCard extends ModelCardContent {
  readonly model: { version: string; createdAt: string; architecture: Manifest['architecture']; parameters: number };
  readonly provenance: {
    dataset: DatasetCredit;
    files: Manifest['lineage']['datasets'];
    trainedBy: string;
    codeCommit: string;
    runId: string | undefined;
    seed: number;
  };
  readonly data: {
    validation: ValidationReport;
    songs: { train: number; validation: number; test: number; globalOnly: number };
    splitRule: string;
  };
  readonly training: {
    /** The shipped model's settings (lineage.parameters.model). */
    readonly settings: unknown;
    /** The boosted trees' settings and weight, where the shipped recipe has trees (lineage.parameters.recipe). */
    readonly trees?: { readonly weight: number; readonly members: number; readonly settings: unknown };
    /** Folded into the output layer: sigmoid(a·(logit − log w_c) + b), fitted on the validation songs. */
    readonly calibration: { a: number; b: number; validation: { before: Metrics; after: Metrics } };
    readonly runs: Record<
      string,
      { networks: number; bestEpochs: number[]; epochsRun: number; validationMacroAuc: number }
    >;
  };
  readonly metrics: {
    split: 'test' | 'validation';
    songs: number;
    rows: Record<string, Metrics>;
    /** 95 % bootstrap intervals of macro AUC over the test songs, and of each model minus logistic (paired). */
    bootstrap?: { intervals: Record<string, BootstrapInterval>; differences: Record<string, BootstrapInterval> };
  };
  readonly calibration: readonly ReliabilityBin[];
  readonly fairness: FairnessReport;
  readonly gate: GateResult;
  readonly parity: ParityReport;
  readonly crossValidation?: CvCardSection;
  readonly intendedUse: string;
  readonly limits: readonly string[];
}

export function explicitParity(probs: Float32Array, raw: Float32Array, rows: number): FairnessReport {
  const k = COUNTRY_CODES.length;
  const explicitCounts = new Array<number>(k).fill(0);
  const otherCounts = new Array<number>(k).fill(0);
  let nExplicit = 0;
  let nOther = 0;
  for (let r = 0; r < rows; r++) {
    const isExplicit = (raw[r * 13] as number) > 0.5;
    if (isExplicit) nExplicit++;
    else nOther++;
    for (const c of topK(probs, r, k, 5)) {
      if (isExplicit) explicitCounts[c] = (explicitCounts[c] as number) + 1;
      else otherCounts[c] = (otherCounts[c] as number) + 1;
    }
  }
  const description =
    'statistical parity difference: share of explicit songs minus share of non-explicit songs with a country among their 5 highest predictions, on the test songs';
  if (nExplicit === 0 || nOther === 0) {
    return {
      description,
      explicitSongs: nExplicit,
      nonExplicitSongs: nOther,
      maxAbsSpd: null,
      maxAbsSpdCountry: null,
      meanAbsSpd: null,
    };
  }
  const spd = explicitCounts.map((e, c) => e / nExplicit - (otherCounts[c] as number) / nOther);
  let worst = 0;
  spd.forEach((v, c) => {
    if (Math.abs(v) > Math.abs(spd[worst] as number)) worst = c;
  });
  return {
    description,
    explicitSongs: nExplicit,
    nonExplicitSongs: nOther,
    maxAbsSpd: Math.abs(spd[worst] as number),
    maxAbsSpdCountry: COUNTRY_CODES[worst] as CountryCode,
    meanAbsSpd: spd.reduce((a, v) => a + Math.abs(v), 0) / k,
  };
}

export interface CardInput {
  readonly manifest: Manifest;
  readonly validation: ValidationReport;
  readonly songs: { train: number; validation: number; test: number; globalOnly: number };
  readonly training: Record<'model' | 'logistic' | 'course', EnsembleResult>;
  readonly modelTest: Float32Array;
  readonly testRaw: Float32Array;
  readonly testRows: number;
  readonly gate: GateResult;
  readonly production: ProductionScore | undefined;
  readonly parity: ParityReport;
  readonly calibration: Calibration;
  readonly calibrationValidation: { before: Metrics; after: Metrics };
  readonly bootstrap?: { intervals: Record<string, BootstrapInterval>; differences: Record<string, BootstrapInterval> };
  readonly crossValidation?: CvCardSection;
}

export function buildCard(i: CardInput): ModelCard {
  const m = i.manifest;
  const rows: Record<string, Metrics> = { model: m.evaluation.model, ...m.evaluation.baselines };
  if (i.production && i.production.version !== m.version)
    rows[`production ${i.production.version}`] = i.production.metrics;
  return {
    model: {
      version: m.version,
      createdAt: m.createdAt,
      architecture: m.architecture,
      parameters: m.architecture.parameters,
    },
    provenance: {
      dataset: DATASET_CREDIT,
      files: m.lineage.datasets,
      trainedBy: `the Jukebox Edge training pipeline (model/pipeline), run ${m.lineage.runId ?? '-'}`,
      codeCommit: m.lineage.codeCommit,
      runId: m.lineage.runId,
      seed: m.lineage.seed,
    },
    data: {
      validation: i.validation,
      songs: i.songs,
      splitRule:
        'by song (never by row), stratified by how many countries a song charted in, from the seed: 70% train, 15% validation (early stopping and tuning), 15% test (reported here only)',
    },
    training: {
      settings: m.lineage.parameters.model,
      ...treePartOf(m.lineage.parameters.recipe),
      calibration: { a: i.calibration.a, b: i.calibration.b, validation: i.calibrationValidation },
      runs: Object.fromEntries(
        Object.entries(i.training).map(([k, t]) => [
          k,
          {
            networks: t.members.length,
            bestEpochs: t.members.map((m) => m.bestEpoch),
            epochsRun: t.epochsRun,
            validationMacroAuc: t.bestValidationMacroAuc,
          },
        ]),
      ),
    },
    metrics: {
      split: m.evaluation.split,
      songs: m.evaluation.songs,
      rows,
      ...(i.bootstrap ? { bootstrap: i.bootstrap } : {}),
    },
    calibration: m.evaluation.reliability,
    fairness: explicitParity(i.modelTest, i.testRaw, i.testRows),
    gate: i.gate,
    parity: i.parity,
    ...(i.crossValidation
      ? {
          crossValidation: {
            settings: i.crossValidation.settings,
            songs: i.crossValidation.songs,
            recipes: i.crossValidation.recipes,
            estimates: i.crossValidation.estimates,
            vsLogistic: i.crossValidation.vsLogistic,
            selection: i.crossValidation.selection,
            chosen: i.crossValidation.chosen,
            production: i.crossValidation.production,
            refit: i.crossValidation.refit,
            timeOrdered: i.crossValidation.timeOrdered,
          },
        }
      : {}),
    intendedUse:
      'Decision support for a record label’s field marketers: rank the countries where a song with these audio features is most likely to enter the Spotify daily top 50, to prioritise where to look and promote. Scores are relative chances learned from the charts it was trained on, not forecasts of streams.',
    limits: [
      `Trained on ${(i.songs.train + i.songs.validation + i.songs.test).toLocaleString('en-US')} songs that charted somewhere in its training data (${i.manifest.lineage.datasets.map((d) => d.name).join(', ')}): it ranks countries for a charting song, it does not say whether a song will chart at all.`,
      'Audio features only: artist, language, label, marketing and release timing, which matter more, are not inputs.',
      'Probabilities are calibrated on the validation songs with one global scale and offset (after undoing the training weights), not per country: read a probability together with the reliability table, and trust the ranking more than the number.',
      'Countries with few charting songs in the data have unstable AUC (see the per-country AUC in the manifest).',
      'Chart tastes drift: watch the drift report against the reference profile in the manifest and retrain on newer charts.',
    ],
  };
}

const iv4 = (i: CvInterval | undefined) => (i ? `${f4(i.mean)} [${f4(i.lo)}, ${f4(i.hi)}]` : '–');
const sd4 = (n: number) => `${n >= 0 ? '+' : ''}${n.toFixed(4)}`;
const div4 = (i: CvInterval | undefined) => (i ? `${sd4(i.mean)} [${sd4(i.lo)}, ${sd4(i.hi)}]` : '–');

function crossValidationText(c: ModelCard): string {
  const cv = c.crossValidation;
  if (!cv) return '';
  const rows = cv.recipes
    .map((r) => {
      const e = cv.estimates[r.name];
      const d = cv.vsLogistic[r.name];
      return `| ${r.name === cv.chosen ? `**${r.name}** (chosen)` : r.name} | ${r.description} | ${r.parameters} | ${iv4(e?.macroAuc)} | ${iv4(e?.top5Hit)} | ${d ? div4(d.macroAuc) : '–'} | ${d ? div4(d.top5Hit) : '–'} |`;
    })
    .join('\n');
  const refit = cv.refit
    ? `The shipped model is **${cv.chosen} refit on all ${cv.refit.songs} songs** (train + validation + test of the split below), each network trained for the median best epoch of the folds (${Object.entries(
        cv.refit.epochs,
      )
        .map(([k, v]) => `${k}: ${v}`)
        .join(
          '; ',
        )}), calibrated on the out-of-fold scores of the first repeat (a ${f4(cv.refit.calibration.a)}, b ${f4(cv.refit.calibration.b)}). Its expected accuracy on songs it has not seen is the cross-validated estimate of ${cv.chosen}: macro AUC ${iv4(cv.estimates[cv.chosen]?.macroAuc)}, top-5 hit ${iv4(cv.estimates[cv.chosen]?.top5Hit)}.`
    : '';
  const t = cv.timeOrdered;
  const timeText = t
    ? `Time-ordered (songs carry dates): trained on ${t.trainSongs} songs (dated ones until ${t.trainUntil ?? '–'}), tested on the ${t.testSongs} latest songs (${t.from} to ${t.to}): ${Object.entries(
        t.scores,
      )
        .map(
          ([n, m]) =>
            `${n} macro AUC ${f4(m.macroAuc)} (cross-validated ${f4(cv.estimates[n]?.macroAuc.mean)}), top-5 hit ${f4(m.top5Hit)} (cross-validated ${f4(cv.estimates[n]?.top5Hit.mean)})`,
        )
        .join('; ')}. The gap to the cross-validated estimate is how much accuracy decays on songs that come later.\n\n`
    : '';
  return `## Cross-validation (what selection and the gate decide on)

${cv.settings.folds}-fold × ${cv.settings.repeats} repeated cross-validation over all ${cv.songs} songs, grouped by song and stratified by how many countries a song charted in; in each fold ${Math.round(cv.settings.innerValidationShare * 100)} % of the training songs are held back for early stopping and calibration. Mean over the ${cv.settings.folds * cv.settings.repeats} folds with 95 % intervals (corrected resampled t, Nadeau–Bengio: folds share training songs); differences are paired per fold.

| candidate | what | parameters | macro AUC | top-5 hit | macro AUC − logistic | top-5 hit − logistic |
| --- | --- | --- | --- | --- | --- | --- |
${rows}

Selection: ${cv.selection.reason}.${cv.production ? ` Production ${cv.production.version}'s settings are scored as \`${cv.production.matched}\`.` : ''}

${refit}

${timeText}`;
}

function bootstrapText(c: ModelCard): string {
  const b = c.metrics.bootstrap;
  if (!b) return '';
  const iv = (x: BootstrapInterval | undefined) => (x ? `[${f4(x.lo)}, ${f4(x.hi)}]` : '–');
  const lines = Object.entries(b.intervals).map(
    ([name, x]) => `${name} ${iv(x)}${b.differences[name] ? `, minus logistic ${iv(b.differences[name])}` : ''}`,
  );
  return `Macro AUC, 95 % bootstrap intervals over the test songs (200 paired resamples): ${lines.join('; ')}.\n\n`;
}

function trainingText(c: ModelCard): string {
  const s = (c.training.settings ?? {}) as Partial<Record<string, unknown>>;
  const runs = Object.entries(c.training.runs)
    .map(
      ([name, r]) =>
        `- ${name}: ${r.networks} network(s), best epochs ${r.bestEpochs.join(', ')}, validation macro AUC ${f4(r.validationMacroAuc)}`,
    )
    .join('\n');
  const members = Number(s.members ?? 1);
  const t = c.training.trees;
  const ts = (t?.settings ?? {}) as Partial<Record<string, unknown>>;
  const trees = t
    ? `\n\nBoosted trees (weight ${t.weight} of the logit, ${t.members} member(s) from their own seeds; \`model/pipeline/boosted-trees.ts\`): one tree for all 72 countries, depth ${String(ts.depth)}, learning rate ${String(ts.learningRate)}, λ ${String(ts.lambda)}, at least ${String(ts.minLeaf)} songs per side, ${String(ts.bins)} quantile bins, ${String(ts.rowSample)} of the songs and ${String(ts.featureSample)} of the features per tree; per-country cross-entropy plus ${String(ts.softmaxWeight)} × softmax cross-entropy over countries; tree count as the folds' median (early stopping on validation, then ${String(ts.refitOnValidation)} × on train + validation).`
    : '';
  return `tfjs (wasm backend) in Node, Adam (learning rate ${String(s.learningRate)}), batch ${String(s.batchSize)}, dropout ${String(s.dropout)}, L2 ${String(s.l2)}; binary cross-entropy with positive weights ${String(s.positiveWeighting)}(negatives/positives) capped at ${String(s.maxPositiveWeight)}, plus ${String(s.softmaxWeight)} × softmax cross-entropy over countries; early stopping on validation macro AUC (patience ${String(s.patience)}) with the best epoch restored.${members > 1 ? ` The model is the average of ${members} networks' logits (hidden ${JSON.stringify(s.hidden)}, different seeds), folded exactly into one Dense stack.` : ''} Settings chosen on the validation split only.${trees}

Calibration (fitted on the validation songs, folded into the output layer; per-country rankings unchanged): sigmoid(${f4(c.training.calibration.a)} · (logit − log w_c) ${c.training.calibration.b < 0 ? '−' : '+'} ${f4(Math.abs(c.training.calibration.b))}). On validation it moved Brier ${f4(c.training.calibration.validation.before.brier)} → ${f4(c.training.calibration.validation.after.brier)} and top-5 hit ${f4(c.training.calibration.validation.before.top5Hit)} → ${f4(c.training.calibration.validation.after.top5Hit)}.

${runs}`;
}

/** The recipe's tree part (weight, members, settings), where it has one. */
function treePartOf(recipe: unknown): { trees?: NonNullable<ModelCard['training']['trees']> } {
  const parts = (recipe as { parts?: { weight?: number; params?: { members?: number; trees?: unknown } }[] })?.parts;
  const part = Array.isArray(parts) ? parts.find((p) => p?.params?.trees) : undefined;
  if (!part?.params?.trees) return {};
  return {
    trees: { weight: Number(part.weight), members: Number(part.params.members ?? 1), settings: part.params.trees },
  };
}

/** The boosted trees beside the stack, where the model has them. */
function treesText(a: Manifest['architecture']): string {
  if (!a.trees) return '';
  return `, plus ${a.trees.count} boosted trees (depth ≤ ${a.trees.depth}, ${a.trees.leaves} leaves of 72 values each, trees.bin) whose leaves add to the output logits`;
}

const f4 = (n: number | null | undefined) => (n === null || n === undefined || Number.isNaN(n) ? '–' : n.toFixed(4));

export function renderCardMarkdown(c: ModelCard): string {
  const metricRows = Object.entries(c.metrics.rows)
    .map(
      ([name, m]) =>
        `| ${name} | ${f4(m.macroAuc)} | ${f4(m.microAuc)} | ${f4(m.top5Hit)} | ${f4(m.precisionAt5)} | ${f4(m.recallAt5)} | ${f4(m.brier)} |`,
    )
    .join('\n');
  const calibration = c.calibration
    .map(
      (b) => `| ${b.lo.toFixed(1)}–${b.hi.toFixed(1)} | ${b.count} | ${f4(b.meanPredicted)} | ${f4(b.observedRate)} |`,
    )
    .join('\n');
  const files = c.provenance.files.map((d) => `- \`${d.name}\`: ${d.rows} rows, sha256 \`${d.sha256}\``).join('\n');
  const v = c.data.validation;
  const fair = c.fairness;
  return `# Model card: ${c.model.version}

Predicts, from a song's 13 audio features, the probability that it enters the Spotify daily top 50 in each of 72 countries.

- Created: ${c.model.createdAt}
- Architecture: 13 → ${c.model.architecture.hidden.join(' → ')} → 72 (${c.model.architecture.activation}, sigmoid outputs)${treesText(c.model.architecture)}, ${c.model.parameters} parameters; input standardisation is folded into the first layer${c.model.architecture.trees ? " (and the trees' thresholds are raw values)" : ''}, so it takes raw feature values.
- Trained by ${c.provenance.trainedBy}, seed ${c.provenance.seed}, code commit \`${c.provenance.codeCommit}\`.

## Data provenance

Data: "${c.provenance.dataset.title}" by ${c.provenance.dataset.author} (${c.provenance.dataset.source}, ${c.provenance.dataset.url}). Check that page for its licence terms.

${files}

Validation: ${v.rowsRead} rows read, ${v.rowsKept} kept; ${v.exactDuplicateRows} exact duplicate rows dropped; ${v.songsWithConflictingFeatures} songs with conflicting feature values fixed (${v.rowsWithFeaturesReplaced} rows). Rules: ${v.rules.join('; ')}.

Songs: ${c.data.songs.train} train, ${c.data.songs.validation} validation, ${c.data.songs.test} test (${c.data.songs.globalOnly} seen only on the global chart, left out). Split ${c.data.splitRule}.

## Training

${trainingText(c)}

${crossValidationText(c)}## Metrics on ${c.metrics.songs} held-out ${c.metrics.split} songs${c.crossValidation?.refit ? ' (the chosen settings trained on the train split only: the final untouched report)' : ''}

| model | macro AUC | micro AUC | top-5 hit | precision@5 | recall@5 | Brier |
| --- | --- | --- | --- | --- | --- | --- |
${metricRows}

prior = every song gets the training share of each country; logistic = logistic regression on the same inputs; course-net = the course's 13→32→64→128→256→72 network with plain cross-entropy. All computed in the same run on the same songs.

${bootstrapText(c)}Quality gate: ${c.gate.passed ? 'passed' : 'FAILED'}. ${c.gate.checks.map((x) => `${x.passed ? '✓' : '✗'} ${x.message}`).join('; ')}.

Parity: the exported files, loaded by the app's loader, reproduce the trained model within ${c.parity.maxAbsDiff.toExponential(2)} (max abs difference on ${c.parity.rows} test songs; limit ${c.parity.tolerance}).

## Calibration (all song × country pairs of the test songs)

| predicted | pairs | mean predicted | observed rate |
| --- | --- | --- | --- |
${calibration}

## Fairness

Explicit vs non-explicit songs (${fair.explicitSongs} vs ${fair.nonExplicitSongs} test songs): largest statistical parity difference of a country being among the top 5 predicted is ${f4(fair.maxAbsSpd)} (${fair.maxAbsSpdCountry ?? '–'}), mean over countries ${f4(fair.meanAbsSpd)}. This reflects the charts as much as the model (explicit songs chart in different places); it is reported, not corrected.

## Intended use

${c.intendedUse}

## Limits

${c.limits.map((l) => `- ${l}`).join('\n')}
`;
}
