/**
 * runPipeline in process on a small synthetic chart file: the run is refused
 * and recorded when parity fails, manifest lineage is complete, and the
 * production model is scored on the same held-out songs.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManifestSchema } from '../../model/contract/index.ts';
import { syntheticCharts, toCsv } from '../../model/pipeline/fixtures.ts';
import { PipelineError } from '../../model/pipeline/problems.ts';
import { type PipelineOptions, runPipeline } from '../../model/pipeline/run-pipeline.ts';
import { listRuns } from '../../model/pipeline/runs.ts';
import { smallRunOptions } from '../../model/testing/pipeline-options.ts';

let dir: string;
let options: PipelineOptions;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pipeline-run-'));
  await writeFile(join(dir, 'charts.csv'), toCsv(syntheticCharts({ songs: 400, seed: 5 })));
  options = smallRunOptions(dir, [join(dir, 'charts.csv')], { members: 1, maxEpochs: 20, patience: 5 });
});

describe('runPipeline', () => {
  it('fails the run when the exported model does not reproduce the trained one: nothing published, run recorded', async () => {
    // The folded float32 export differs by ~1e-7; demanding 1e-12 must stop the run.
    const err = await runPipeline({ ...options, parityTolerance: 1e-12 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PipelineError);
    expect((err as PipelineError).code).toBe('parity-failed');
    expect(existsSync(join(dir, 'model'))).toBe(false);
    const runs = await listRuns(join(dir, 'runs'));
    expect(runs[runs.length - 1]).toMatchObject({ status: 'failed', error: { code: 'parity-failed' } });
    await expect(runPipeline({ ...options, parityTolerance: 1e-3 })).rejects.toThrow(/parityTolerance/);
  });

  it('publishes with complete lineage, then scores that model as production on the same songs', async () => {
    const first = await runPipeline(options);
    const m = ManifestSchema.parse(first.manifest);
    expect(m.lineage.codeCommit).toMatch(/^([0-9a-f]{40}(\+dirty)?|unknown)$/);
    expect(m.lineage.parameters).toMatchObject({ seed: 42, model: { hidden: [32], members: 1 } });
    expect(m.lineage.datasets[0]?.name).toBe('charts.csv');
    expect(m.architecture.parameters).toBe(13 * 32 + 32 + 32 * 72 + 72);
    expect(m.evaluation.baselines).toHaveProperty('course-net');

    const second = await runPipeline({
      ...options,
      production: join(dir, 'model'),
      out: join(dir, 'model-2'),
      seed: 9,
    });
    // Different seed: another split, so "production" is re-scored on this run's test songs, not its own manifest.
    const prodMetrics = second.record.metrics?.production;
    expect(prodMetrics).toBeDefined();
    expect(prodMetrics?.macroAuc).not.toBe(m.evaluation.model.macroAuc);
    expect(second.record.gate?.checks.some((c) => c.message.includes(`production ${m.version}`))).toBe(true);
    expect(second.manifest?.lineage.parent).toBe(m.version);
  });

  it('a broken production model is reported and not compared, not a crash', async () => {
    const broken = join(dir, 'broken');
    await mkdir(broken, { recursive: true });
    await writeFile(join(broken, 'model.json'), '{ not json');
    await writeFile(join(broken, 'weights.bin'), new Uint8Array(7));
    const r = await runPipeline({ ...options, production: broken, out: null });
    expect(r.record.status).toBe('passed');
    expect(r.record.messages.some((l) => /production model at .*broken could not be loaded/.test(l))).toBe(true);
    expect(r.record.metrics?.production).toBeUndefined();
  });
});
