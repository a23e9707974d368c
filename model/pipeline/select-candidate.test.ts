import { describe, expect, it } from 'vitest';
import type { Recipe } from './candidates.ts';
import { type FoldRecord, pairedDifference } from './cross-validate.ts';
import { runCvGate } from './gate.ts';
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

  it('does not let a candidate ahead on one metric only displace a simpler one (the gate would call it a tie)', () => {
    // big is ahead of small on macro AUC beyond noise and level on top-5 hit.
    const s = selectCandidate(
      folds({ logistic: [0, 0], small: [0.03, 0.04], big: [0.06, 0.04], best: [0, 0] }),
      recipes,
      'big',
    );
    expect(s.qualified).toEqual(['small', 'big']);
    expect(s.chosen).toBe('small');
    expect(s.reason).toContain(
      'big is ahead of small on macro AUC beyond noise but ties on top-5 hit: a tie, the simpler small is kept',
    );
    expect(s.steps).toEqual([expect.objectContaining({ challenger: 'big', kept: 'small', replaces: false })]);
  });

  it('keeps what the gate would pass against the simpler one, on every better/tie/worse pair', () => {
    const step = { better: 0.03, tie: 0, worse: -0.03 } as const;
    const cases = Object.keys(step) as (keyof typeof step)[];
    for (const a of cases)
      for (const t of cases) {
        const f = folds({ logistic: [0, 0], small: [0.05, 0.05], big: [0.05 + step[a], 0.05 + step[t]], best: [0, 0] });
        const s = selectCandidate(f, recipes, 'small');
        expect(s.qualified, `${a}/${t}`).toEqual(['small', 'big']);
        // The gate with the simpler one in production and the complex one as the candidate.
        const gate = runCvGate({
          candidate: 'big',
          vsLogistic: pairedDifference(f, 'big', 'logistic'),
          production: {
            version: 'small',
            sameRecipe: false,
            difference: pairedDifference(f, 'big', 'small'),
            candidateSimpler: false,
          },
          tolerance: 0.01,
        });
        expect(s.chosen === 'big', `${a}/${t}`).toBe(gate.passed);
        expect(s.chosen, `${a}/${t}`).toBe(a === 'better' && t === 'better' ? 'big' : 'small');
      }
  });
});
