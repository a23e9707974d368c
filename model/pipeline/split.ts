/**
 * Step 4, split by song: train / validation / test, never by row (a song has
 * many rows). Stratified by how widely a song charted (bucketed number of
 * countries), because a one-country song and a 60-country hit are very
 * different examples and each split should hold both in the same shares.
 * Deterministic from the seed and independent of the order of input rows.
 */
import { deriveSeed, mulberry32, shuffleInPlace } from './prng.ts';
import type { Song } from './targets.ts';

export interface SplitParams {
  readonly seed: number;
  readonly validationShare: number;
  readonly testShare: number;
}

export interface SplitResult {
  readonly train: Song[];
  readonly validation: Song[];
  readonly test: Song[];
  /** Upper bounds (inclusive) of the countries-per-song strata. */
  readonly strata: readonly number[];
}

export const STRATA_UPPER = [1, 3, 10, 30, Number.POSITIVE_INFINITY] as const;

function stratum(song: Song): number {
  return STRATA_UPPER.findIndex((u) => song.y.length <= u);
}

export function splitBySong(songs: readonly Song[], p: SplitParams): SplitResult {
  if (p.validationShare <= 0 || p.testShare <= 0 || p.validationShare + p.testShare >= 1) {
    throw new Error(`invalid split shares: validation ${p.validationShare}, test ${p.testShare}`);
  }
  const random = mulberry32(deriveSeed(p.seed, 'split'));
  const groups = STRATA_UPPER.map(() => [] as Song[]);
  for (const s of [...songs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    groups[stratum(s)]?.push(s);
  }
  const train: Song[] = [];
  const validation: Song[] = [];
  const test: Song[] = [];
  for (const g of groups) {
    shuffleInPlace(g, random);
    const nTest = Math.round(g.length * p.testShare);
    const nVal = Math.round(g.length * p.validationShare);
    test.push(...g.slice(0, nTest));
    validation.push(...g.slice(nTest, nTest + nVal));
    train.push(...g.slice(nTest + nVal));
  }
  return { train, validation, test, strata: STRATA_UPPER.map((u) => (Number.isFinite(u) ? u : -1)) };
}
