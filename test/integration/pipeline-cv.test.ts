/**
 * runPipeline with cross-validation on a small synthetic chart file (the fast setting: 4 folds × 1 repeat,
 * small networks): every candidate is scored on the same folds, the gate's decision can be recomputed from
 * the run record alone, and what ships is refit on every song.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultRecipes } from '../../model/pipeline/candidates.ts';
import { pairedDifference } from '../../model/pipeline/cross-validate.ts';
import { syntheticCharts, toCsv } from '../../model/pipeline/fixtures.ts';
import { runCvGate } from '../../model/pipeline/gate.ts';
import { type PipelineOptions, runPipeline } from '../../model/pipeline/run-pipeline.ts';
import { listRuns } from '../../model/pipeline/runs.ts';
import { smallRunOptions } from '../../model/testing/pipeline-options.ts';

let dir: string;
let options: PipelineOptions;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pipeline-cv-'));
  const charts = syntheticCharts({ songs: 500, seed: 5, countries: 72 });
  await writeFile(join(dir, 'charts.csv'), toCsv(charts));
  // 200 of the songs carry a first date (as field outcomes do): the latest 40 are the time-ordered test songs.
  const ids = [...new Set(charts.map((r) => String(r.spotify_id)))].slice(0, 200);
  const songDates = Object.fromEntries(ids.map((id, i) => [id, `2027-${String(1 + (i % 12)).padStart(2, '0')}-01`]));
  const base = smallRunOptions(dir, [join(dir, 'charts.csv')], { members: 2, maxEpochs: 40, patience: 8 });
  options = {
    ...base,
    cv: {
      settings: { folds: 4, repeats: 1, innerValidationShare: 0.15 },
      recipes: defaultRecipes(base.model, base.logistic, 3),
      fallback: 'network',
    },
    songDates,
  };
});

describe('runPipeline with cross-validation', () => {
  it('scores every candidate on the same folds, records the evidence, and refits what ships on all songs', async () => {
    const result = await runPipeline(options).catch(() => null);
    const runs = await listRuns(join(dir, 'runs'));
    const record = runs[runs.length - 1];
    const cv = record?.crossValidation;
    expect(cv).toBeDefined();
    if (!record || !cv) return;
    expect(cv.folds).toHaveLength(4);
    expect(cv.folds.reduce((a, f) => a + f.testSongs, 0)).toBe(cv.songs);
    const names = [
      'network',
      'logistic',
      'blend',
      'low-rank',
      'network-regularised',
      'network-3',
      'network-quantile',
      'logistic-quantile',
      'boosted-trees',
      'trees-network',
      'ensemble-2',
      'ensemble-3',
      'stack',
      'stack-4',
    ];
    for (const f of cv.folds) expect(Object.keys(f.scores).sort()).toEqual([...names].sort());
    // The stacks' weights are learned per fold (on its inner validation songs), each a point of the simplex.
    for (const f of cv.folds)
      for (const n of ['stack', 'stack-4']) {
        const w = f.stackWeights?.[n] ?? [];
        expect(w).toHaveLength(n === 'stack' ? 2 : 4);
        expect(w.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 6);
      }
    // The gate's decision, recomputed from the run record alone.
    const again = runCvGate({
      candidate: cv.selection.chosen,
      vsLogistic: pairedDifference(cv.folds, cv.selection.chosen, 'logistic'),
      tolerance: options.gateTolerance,
    });
    expect(again).toEqual(record.gate);
    expect(cv.refit?.songs).toBe(cv.songs);
    // On this data (taste balls a linear model cannot draw) the network beats logistic beyond noise on both.
    expect(record.status).toBe('published');
    expect(result?.manifest?.card?.trainedOn).toMatch(new RegExp(`all ${cv.songs} songs`));
    const md = await readFile(join(dir, 'model', 'card.md'), 'utf8');
    expect(md).toMatch(/## Cross-validation/);
    for (const n of names) expect(md).toMatch(new RegExp(`\\| (\\*\\*)?${n}(\\*\\* \\(chosen\\))? \\|`));
    expect(md).toMatch(new RegExp(`refit on all ${cv.songs} songs`));
    // The card says why the chosen one was kept (selection reason, the gate's rule).
    expect(md).toContain(`Selection: ${cv.selection.reason}.`);
    expect(cv.selection.reason).toMatch(new RegExp(`${cv.selection.chosen} is kept`));
    // Trained on the earlier songs, tested on the 40 latest.
    expect(cv.timeOrdered?.testSongs).toBe(40);
    expect(cv.timeOrdered?.trainSongs).toBe(cv.songs - 40);
    expect(Object.keys(cv.timeOrdered?.scores ?? {}).sort()).toEqual([cv.selection.chosen, 'logistic'].sort());
    expect(cv.timeOrdered?.from).toBe('2027-10-01');
    expect(md).toMatch(/Time-ordered \(songs carry dates\): trained on 460 songs/);
  }, 300_000);
});
