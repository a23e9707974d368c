/**
 * A learned stack over a quantile-transformed model, all the way through runPipeline: the stack's weights
 * are fitted per fold, the one that is refit takes weights fitted on the out-of-fold scores, and the folded
 * stack (quantile knot layer in front) exports and reproduces the in-memory model within the parity limit.
 * Logistic parts only, so it runs in seconds.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Recipe, stackRecipe } from '../../model/pipeline/candidates.ts';
import { syntheticCharts, toCsv } from '../../model/pipeline/fixtures.ts';
import { DEFAULT_OPTIONS, runPipeline } from '../../model/pipeline/run-pipeline.ts';
import { listRuns } from '../../model/pipeline/runs.ts';
import { throwawayRunOptions } from '../../model/testing/pipeline-options.ts';

describe('runPipeline with a learned stack as the candidate', () => {
  it('fits the stack per fold, refits it with out-of-fold weights, and exports it with parity', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pipeline-stack-'));
    await writeFile(join(dir, 'charts.csv'), toCsv(syntheticCharts({ songs: 300, seed: 9, countries: 72 })));
    const logistic = { ...DEFAULT_OPTIONS.logistic, maxEpochs: 30 };
    const base: Recipe[] = [
      { name: 'logistic', description: 'logistic', parts: [{ params: logistic, weight: 1 }] },
      {
        name: 'logistic-quantile',
        description: 'logistic on quantile inputs',
        parts: [{ params: { ...logistic, inputTransform: 'quantile' }, weight: 1 }],
      },
    ];
    const recipes = [...base, stackRecipe('stack', 'stack', ['logistic', 'logistic-quantile'], base)];
    const run = runPipeline({
      // Nothing exported or cached: only the run record is read.
      ...throwawayRunOptions(dir, [join(dir, 'charts.csv')]),
      out: null,
      cacheDir: null,
      model: { ...DEFAULT_OPTIONS.model, hidden: [8], members: 1, maxEpochs: 5 },
      logistic,
      course: { ...DEFAULT_OPTIONS.course, hidden: [8], maxEpochs: 5 },
      // 'stack' goes to the gate whatever the folds say: what matters here is that it refits and exports.
      cv: { settings: { folds: 3, repeats: 1, innerValidationShare: 0.15 }, recipes, fallback: 'stack' },
    });
    await run.catch(() => null);
    const record = (await listRuns(join(dir, 'runs'))).at(-1);
    const cv = record?.crossValidation;
    expect(cv?.folds).toHaveLength(3);
    for (const f of cv?.folds ?? []) {
      const w = f.stackWeights?.stack ?? [];
      expect(w).toHaveLength(2);
      expect((w[0] ?? 0) + (w[1] ?? 0)).toBeCloseTo(1, 6);
    }
    expect(cv?.selection.chosen).toBe('stack');
    expect(cv?.refit?.songs).toBe(cv?.songs);
    // The folded stack (a relu knot layer for the quantile part, ± relu pairs for the plain one) as exported.
    expect(record?.parity?.passed).toBe(true);
    expect(record?.parity?.maxAbsDiff).toBeLessThanOrEqual(1e-5);
  }, 240_000);
});
