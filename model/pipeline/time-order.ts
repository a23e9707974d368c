/**
 * Time-ordered evaluation: where training songs carry dates (the outcomes a
 * server exports do), train on the earlier songs and test on the later ones,
 * beside the cross-validation, so the card can say how fast accuracy decays
 * once the charts move on. Cross-validation mixes all dates and so estimates
 * accuracy on songs like the training songs; this estimates it on the next ones.
 */
import type { Song } from './targets.ts';

export interface TimeOrderedSplit {
  /** Undated songs (the chart files) and the earlier dated songs. */
  readonly train: Song[];
  /** The latest dated songs. */
  readonly test: Song[];
  /** First date of the test songs, and the last. */
  readonly from: string;
  readonly to: string;
  /** Last date among the training songs that have one (null: only undated songs train). */
  readonly trainUntil: string | null;
}

/** Fewest dated test songs for a time-ordered report to mean anything. */
export const MIN_TIME_TEST_SONGS = 20;

/**
 * The latest `testShare` of the dated songs (by each song's first date; ties by id) are the test songs;
 * every other song trains. Null when fewer than MIN_TIME_TEST_SONGS songs would be tested.
 */
export function splitByTime(
  songs: readonly Song[],
  firstDate: Readonly<Record<string, string>>,
  testShare = 0.2,
): TimeOrderedSplit | null {
  const dated = songs
    .filter((s) => firstDate[s.id] !== undefined)
    .sort((a, b) => {
      const da = firstDate[a.id] as string;
      const db = firstDate[b.id] as string;
      return da < db ? -1 : da > db ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
    });
  const n = Math.round(dated.length * testShare);
  if (n < MIN_TIME_TEST_SONGS) return null;
  const test = dated.slice(dated.length - n);
  const testIds = new Set(test.map((s) => s.id));
  const train = songs.filter((s) => !testIds.has(s.id));
  const earlier = dated.slice(0, dated.length - n);
  return {
    train,
    test,
    from: firstDate[(test[0] as Song).id] as string,
    to: firstDate[(test[test.length - 1] as Song).id] as string,
    trainUntil: earlier.length > 0 ? (firstDate[(earlier[earlier.length - 1] as Song).id] as string) : null,
  };
}
