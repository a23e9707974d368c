/**
 * A plain ensemble (mean logit of a network and the same network on quantile-transformed inputs, as
 * `ensemble-2` is) chosen all the way through runPipeline: refit on every song, folded into one block-diagonal
 * stack with the quantile knot layer in front, exported, and reproduced by the app's loader within the parity
 * limit. Tiny networks, so it runs in seconds.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PartParams, Recipe } from '../../model/pipeline/candidates.ts';
import { syntheticCharts, toCsv } from '../../model/pipeline/fixtures.ts';
import { DEFAULT_OPTIONS, runPipeline } from '../../model/pipeline/run-pipeline.ts';
import { listRuns } from '../../model/pipeline/runs.ts';
import { throwawayRunOptions } from '../../model/testing/pipeline-options.ts';

describe('runPipeline with an ensemble as the candidate', () => {
  it('refits every member on all songs and exports the folded ensemble with parity', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pipeline-ensemble-'));
    await writeFile(join(dir, 'charts.csv'), toCsv(syntheticCharts({ songs: 300, seed: 11, countries: 72 })));
    const logistic = { ...DEFAULT_OPTIONS.logistic, maxEpochs: 30 };
    const net: PartParams = { ...DEFAULT_OPTIONS.model, hidden: [8, 8], members: 2, maxEpochs: 5 };
    const recipes: Recipe[] = [
      { name: 'logistic', description: 'logistic', parts: [{ params: logistic, weight: 1 }] },
      {
        name: 'ensemble',
        description: 'mean logit of the network and the network on quantile inputs',
        parts: [
          { params: net, weight: 0.5 },
          { params: { ...net, inputTransform: 'quantile' }, weight: 0.5 },
        ],
      },
    ];
    await runPipeline({
      // Nothing exported or cached: only the run record is read.
      ...throwawayRunOptions(dir, [join(dir, 'charts.csv')]),
      out: null,
      cacheDir: null,
      model: net,
      logistic,
      course: { ...DEFAULT_OPTIONS.course, hidden: [8], maxEpochs: 5 },
      // The only other candidate is the reference: 'ensemble' goes to the gate whatever the folds say.
      cv: { settings: { folds: 3, repeats: 1, innerValidationShare: 0.15 }, recipes, fallback: 'ensemble' },
    }).catch(() => null);
    const record = (await listRuns(join(dir, 'runs'))).at(-1);
    const cv = record?.crossValidation;
    expect(cv?.selection.chosen).toBe('ensemble');
    expect(cv?.refit?.songs).toBe(cv?.songs);
    // One refit epoch count per part (each part its own median best epoch).
    expect(Object.keys(cv?.refit?.epochs ?? {})).toHaveLength(2);
    expect(record?.parity?.passed).toBe(true);
    expect(record?.parity?.maxAbsDiff).toBeLessThanOrEqual(1e-5);
  }, 240_000);
});
