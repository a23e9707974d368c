import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { metricsWithMacroAuc as metrics } from '../testing/metrics.ts';
import { formatRunComparison, formatRunsTable, listRuns, newRunId, type RunRecord, recordRun } from './runs.ts';

function run(id: string, seed: number, auc: number): RunRecord {
  return {
    runId: id,
    startedAt: '2026-11-23T09:00:00.000Z',
    status: 'published',
    durationMs: 12_345,
    data: [{ file: 'x.csv', sha256: 'a'.repeat(64), rows: 10 }],
    parameters: { seed, model: { hidden: [64, 32], dropout: 0.2 } },
    out: null,
    steps: [
      { step: 'data', key: 'k', hit: true, ms: 1 },
      { step: 'train-model', key: 'k2', hit: false, ms: 100 },
    ],
    messages: [],
    version: `v${seed}`,
    validation: { model: auc + 0.01 },
    metrics: { model: metrics(auc), baselines: { logistic: metrics(0.7) } },
  };
}

describe('runs', () => {
  it('records runs and lists them in time order, skipping stray files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'runs-'));
    const a = newRunId(new Date('2026-11-23T09:00:00Z'));
    const b = newRunId(new Date('2026-11-23T10:00:00Z'));
    await recordRun(dir, run(b, 2, 0.76));
    await recordRun(dir, run(a, 1, 0.74));
    await writeFile(join(dir, 'junk.json'), '{not json');
    const runs = await listRuns(dir);
    expect(runs.map((r) => r.runId)).toEqual([a, b]);
    const table = formatRunsTable(runs);
    expect(table.split('\n')).toHaveLength(3);
    expect(table).toMatch(/64x32/);
    expect(table).toMatch(/0\.7400/);
    expect(table).toMatch(/1\/2/);
  });

  it('compares two runs: differing parameters and metric deltas', () => {
    const text = formatRunComparison(run('r1', 1, 0.74), run('r2', 2, 0.76));
    expect(text).toMatch(/seed\s+1\s+2/);
    expect(text).not.toMatch(/model\.dropout/);
    expect(text).toMatch(/\nmacroAuc\s+0\.7400\s+0\.7600\s+0\.0200/);
    expect(text).toMatch(/validation macroAuc\s+0\.7500\s+0\.7700\s+0\.0200/);
  });

  it('lists nothing for a missing directory', async () => {
    expect(await listRuns(join(tmpdir(), 'does-not-exist-runs'))).toEqual([]);
  });
});
