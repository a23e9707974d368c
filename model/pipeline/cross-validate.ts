/**
 * Repeated song-grouped k-fold cross-validation, stratified by how many
 * countries a song charted in: what model selection and the gate decide on.
 * One split's noise (logistic alone ranges 0.669–0.748 over split seeds) is
 * as large as the differences being decided; k folds × r repeats score every
 * song r times and give paired differences per fold (same songs, same
 * training songs for every candidate).
 *
 * Intervals use the corrected resampled t-test (Nadeau & Bengio 2003): folds
 * share training songs, so their scores are correlated and the plain
 * standard error would be far too small; the variance is inflated by
 * (1/J + n_test/n_train) instead of 1/J.
 */
import { COUNTRY_CODES } from '../contract/index.ts';
import { computeMetrics } from './metrics.ts';
import { deriveSeed, mulberry32, shuffleInPlace } from './prng.ts';
import { STRATA_UPPER } from './split.ts';
import type { Song } from './targets.ts';

export interface CvSettings {
  readonly folds: number;
  readonly repeats: number;
  /** Share of each fold's training songs held back for early stopping and calibration. */
  readonly innerValidationShare: number;
}

/** The full setting (`npm run pipeline:default`). */
export const FULL_CV: CvSettings = { folds: 5, repeats: 3, innerValidationShare: 0.15 };

export interface CvFold {
  readonly repeat: number;
  readonly fold: number;
  readonly train: readonly Song[];
  readonly validation: readonly Song[];
  readonly test: readonly Song[];
  /** Index of each test song in the input list (for out-of-fold predictions). */
  readonly testIndex: readonly number[];
}

export interface FoldScore {
  readonly macroAuc: number;
  readonly top5Hit: number;
}

export interface FoldRecord {
  readonly repeat: number;
  readonly fold: number;
  readonly trainSongs: number;
  readonly validationSongs: number;
  readonly testSongs: number;
  readonly scores: Record<string, FoldScore>;
  /** Best epoch of every trained network per candidate (what the refit on all songs trains for). */
  readonly epochs: Record<string, number[]>;
  /** A learned stack's weights in this fold (fitted on its inner validation songs). */
  readonly stackWeights?: Record<string, number[]>;
}

export interface CvInterval {
  readonly mean: number;
  readonly lo: number;
  readonly hi: number;
  readonly folds: number;
}

const stratumOf = (s: Song) => STRATA_UPPER.findIndex((u) => s.y.length <= u);

function byId(songs: readonly Song[]): number[] {
  return songs.map((_, i) => i).sort((a, b) => ((songs[a] as Song).id < (songs[b] as Song).id ? -1 : 1));
}

/**
 * Every song's fold per repeat: within each stratum, shuffled from the seed and dealt round-robin, so each
 * fold holds every stratum in the same share. Independent of input order.
 */
export function assignFolds(songs: readonly Song[], folds: number, repeats: number, seed: number): number[][] {
  if (!(Number.isInteger(folds) && folds >= 2)) throw new Error(`cross-validation needs ≥ 2 folds, got ${folds}`);
  if (!(Number.isInteger(repeats) && repeats >= 1)) throw new Error(`repeats must be ≥ 1, got ${repeats}`);
  const order = byId(songs);
  const out: number[][] = [];
  for (let r = 0; r < repeats; r++) {
    const random = mulberry32(deriveSeed(seed, `cv-repeat-${r}`));
    const assignment = new Array<number>(songs.length).fill(0);
    let offset = 0;
    for (let g = 0; g < STRATA_UPPER.length; g++) {
      const members = order.filter((i) => stratumOf(songs[i] as Song) === g);
      shuffleInPlace(members, random);
      // Continue the deal where the last stratum stopped, so fold sizes differ by at most one song.
      members.forEach((i, k) => {
        assignment[i] = (offset + k) % folds;
      });
      offset = (offset + members.length) % folds;
    }
    out.push(assignment);
  }
  return out;
}

/** Holds back a stratified share of the training songs for early stopping (never the fold's test songs). */
export function innerSplit(songs: readonly Song[], share: number, seed: number): { train: Song[]; validation: Song[] } {
  const random = mulberry32(seed);
  const train: Song[] = [];
  const validation: Song[] = [];
  const sorted = [...songs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (let g = 0; g < STRATA_UPPER.length; g++) {
    const group = shuffleInPlace(
      sorted.filter((s) => stratumOf(s) === g),
      random,
    );
    const n = Math.round(group.length * share);
    validation.push(...group.slice(0, n));
    train.push(...group.slice(n));
  }
  return { train, validation };
}

export function cvFolds(songs: readonly Song[], s: CvSettings, seed: number): CvFold[] {
  const assignments = assignFolds(songs, s.folds, s.repeats, seed);
  const out: CvFold[] = [];
  assignments.forEach((a, repeat) => {
    for (let fold = 0; fold < s.folds; fold++) {
      const testIndex = songs.map((_, i) => i).filter((i) => a[i] === fold);
      const rest = songs.filter((_, i) => a[i] !== fold);
      const inner = innerSplit(rest, s.innerValidationShare, deriveSeed(seed, `cv-inner-${repeat}-${fold}`));
      out.push({ repeat, fold, ...inner, test: testIndex.map((i) => songs[i] as Song), testIndex });
    }
  });
  return out;
}

/** Two-sided 97.5 % quantile of Student's t (exact to 3 decimals up to 30 df, then a close approximation). */
export function tQuantile975(df: number): number {
  const table = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
    2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
  ];
  if (df < 1) return Number.POSITIVE_INFINITY;
  return table[df - 1] ?? 1.96 + 2.4 / df;
}

/**
 * 95 % interval of the mean of per-fold values with the Nadeau–Bengio correction.
 * @param testTrainRatio test songs / training songs of one fold (1/(k−1) for k folds)
 */
export function correctedInterval(values: readonly number[], testTrainRatio: number): CvInterval {
  const n = values.length;
  const mean = values.reduce((a, v) => a + v, 0) / Math.max(1, n);
  if (n < 2) return { mean, lo: Number.NEGATIVE_INFINITY, hi: Number.POSITIVE_INFINITY, folds: n };
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1);
  const half = tQuantile975(n - 1) * Math.sqrt((1 / n + testTrainRatio) * variance);
  return { mean, lo: mean - half, hi: mean + half, folds: n };
}

export interface PairedDifference {
  readonly macroAuc: CvInterval;
  readonly top5Hit: CvInterval;
}

function ratio(folds: readonly FoldRecord[]): number {
  const f = folds[0];
  return f ? f.testSongs / Math.max(1, f.trainSongs + f.validationSongs) : 0;
}

/** a − b per fold (paired: same songs), with its corrected interval, for both metrics. */
export function pairedDifference(folds: readonly FoldRecord[], a: string, b: string): PairedDifference {
  const diff = (m: keyof FoldScore) =>
    correctedInterval(
      folds.map((f) => (f.scores[a]?.[m] ?? Number.NaN) - (f.scores[b]?.[m] ?? Number.NaN)),
      ratio(folds),
    );
  return { macroAuc: diff('macroAuc'), top5Hit: diff('top5Hit') };
}

export function candidateInterval(folds: readonly FoldRecord[], name: string): PairedDifference {
  const of = (m: keyof FoldScore) =>
    correctedInterval(
      folds.map((f) => f.scores[name]?.[m] ?? Number.NaN),
      ratio(folds),
    );
  return { macroAuc: of('macroAuc'), top5Hit: of('top5Hit') };
}

/** better: the interval of the difference lies above 0; worse: below; tie: it straddles 0. */
export type Verdict = 'better' | 'tie' | 'worse';
export const verdictOf = (i: CvInterval): Verdict => (i.lo > 0 ? 'better' : i.hi < 0 ? 'worse' : 'tie');

export interface FoldFit {
  /** Scores on the fold's test songs (rows × 72), per candidate; any monotone scale (logits are fine). */
  readonly scores: Record<string, Float32Array>;
  readonly epochs: Record<string, number[]>;
  readonly stackWeights?: Record<string, number[]>;
}

export interface CvRun {
  readonly settings: CvSettings;
  readonly folds: FoldRecord[];
  /** Out-of-fold scores of the first repeat, every song once, in input order (for calibrating the refit). */
  readonly outOfFold: Record<string, Float32Array>;
}

/** A fold's record: its sizes, each candidate's scores on its test songs, and what it trained. */
export function foldRecord(f: CvFold, r: FoldFit, scores: Record<string, FoldScore>): FoldRecord {
  return {
    repeat: f.repeat,
    fold: f.fold,
    trainSongs: f.train.length,
    validationSongs: f.validation.length,
    testSongs: f.test.length,
    scores,
    epochs: r.epochs,
    ...(r.stackWeights ? { stackWeights: r.stackWeights } : {}),
  };
}

/** Runs `scoreFold` on every fold (in order) and scores each candidate on the fold's test songs. */
export async function crossValidate(
  songs: readonly Song[],
  s: CvSettings,
  seed: number,
  scoreFold: (fold: CvFold) => Promise<FoldFit>,
  onFold?: (done: number, total: number) => void,
): Promise<CvRun> {
  const k = COUNTRY_CODES.length;
  const folds = cvFolds(songs, s, seed);
  const records: FoldRecord[] = [];
  const outOfFold: Record<string, Float32Array> = {};
  for (const f of folds) {
    const y = new Float32Array(f.test.length * k);
    f.test.forEach((song, i) => {
      for (const c of song.y) y[i * k + c] = 1;
    });
    const r = await scoreFold(f);
    const scores: Record<string, FoldScore> = {};
    for (const [name, p] of Object.entries(r.scores)) {
      const m = computeMetrics(p, y, f.test.length, k);
      scores[name] = { macroAuc: m.macroAuc, top5Hit: m.top5Hit };
      if (f.repeat === 0) {
        const o = outOfFold[name] ?? new Float32Array(songs.length * k);
        outOfFold[name] = o;
        f.testIndex.forEach((idx, i) => {
          o.set(p.subarray(i * k, (i + 1) * k), idx * k);
        });
      }
    }
    records.push(foldRecord(f, r, scores));
    onFold?.(records.length, folds.length);
  }
  return { settings: s, folds: records, outOfFold };
}
