import { describe, expect, it } from 'vitest';
import type { Recipe } from './candidates.ts';
import type { FoldRecord } from './cross-validate.ts';
import { selectCandidate } from './select-candidate.ts';

const recipe = (name: string, hidden: number[], members: number): Recipe => ({
  name,
  description: name,
  parts: [{ params: { hidden, members } as never, weight: 1 }],
});
const recipes = [
  recipe('logistic', [], 1),
  recipe('small', [16], 1),
  recipe('big', [128, 64], 3),
  recipe('best', [128, 64], 5),
];

/** Ten folds; each candidate's score = base + its offset + the fold's shared swing (so differences are paired). */
function folds(offsets: Record<string, [number, number]>): FoldRecord[] {
  return Array.from({ length: 10 }, (_, f) => {
    const swing = (f % 3) * 0.03 - 0.03;
    const noise = (f % 2 === 0 ? 1 : -1) * 0.001;
    return {
      repeat: Math.floor(f / 5),
      fold: f % 5,
      trainSongs: 1200,
      validationSongs: 200,
      testSongs: 350,
      epochs: {},
      scores: Object.fromEntries(
        Object.entries(offsets).map(([n, [a, t]], i) => [
          n,
          { macroAuc: 0.7 + a + swing + noise * i, top5Hit: 0.4 + t + swing - noise * i },
        ]),
      ),
    };
  });
}

describe('model selection on cross-validation', () => {
  it('keeps the simplest of the candidates that beat logistic beyond noise and that nothing beats', () => {
    // small and big both beat logistic on both metrics and are within noise of each other: small is kept.
    const s = selectCandidate(
      folds({ logistic: [0, 0], small: [0.03, 0.04], big: [0.031, 0.041], best: [0.0, 0.05] }),
      recipes,
      'big',
    );
    expect(s.qualified).toEqual(['small', 'big']);
    expect(s.chosen).toBe('small');
  });

  it('drops a qualifier that another beats beyond noise, even if simpler', () => {
    const s = selectCandidate(
      folds({ logistic: [0, 0], small: [0.02, 0.02], big: [0.06, 0.06], best: [0.061, 0.0] }),
      recipes,
      'big',
    );
    expect(s.chosen).toBe('big');
  });

  it('falls back to the configured candidate when nothing beats logistic on both metrics', () => {
    const s = selectCandidate(
      folds({ logistic: [0, 0], small: [0.03, -0.01], big: [0.0, 0.0], best: [-0.01, 0.05] }),
      recipes,
      'big',
    );
    expect(s.qualified).toEqual([]);
    expect(s.chosen).toBe('big');
    expect(s.reason).toMatch(/no candidate beats logistic/);
  });
});
