/**
 * The whole pipeline on the real chart data (../shared/data/charts-2023.csv),
 * with the default settings, into temporary directories: manifest, card,
 * parity through the app's loader and warm-up check, metrics beside the
 * baselines, the run record, and a cached re-run.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { COUNTRY_CODES, contentVersion, type Manifest, ManifestSchema } from '../../model/contract/index.ts';
import { useBackend } from '../../model/pipeline/backend.ts';
import { type PipelineResult, runPipeline } from '../../model/pipeline/run-pipeline.ts';
import { listRuns } from '../../model/pipeline/runs.ts';
import { createDenseModel, parseModelFiles } from '../../model/runtime/dense-model.ts';
import { withTrees } from '../../model/runtime/tree-ensemble.ts';
import { warmUpCheck } from '../../model/runtime/warm-up-check.ts';
import { requireSharedDataFile } from '../../model/shared-data.ts';
import { throwawayRunOptions } from '../../model/testing/pipeline-options.ts';

// Without the shared data every test here fails with requireSharedDataFile's message (never skipped).
describe('pipeline on charts-2023.csv', () => {
  let data: string;
  let dir: string;
  let result: PipelineResult;
  let manifest: Manifest;

  beforeAll(async () => {
    data = requireSharedDataFile('charts-2023.csv');
    dir = await mkdtemp(join(tmpdir(), 'pipeline-charts-'));
    result = await runPipeline(throwawayRunOptions(dir, [data]));
    manifest = ManifestSchema.parse(JSON.parse(await readFile(join(dir, 'model', 'manifest.json'), 'utf8')));
  });

  it('publishes a schema-valid, content-addressed manifest with lineage and the reference profile', async () => {
    expect(result.record.status).toBe('published');
    expect(manifest.version).toBe(await contentVersion(manifest.files));
    expect(manifest.lineage.datasets[0]).toMatchObject({ name: 'charts-2023.csv', rows: 16888 });
    expect(manifest.lineage.datasets[0]?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.lineage.seed).toBe(42);
    expect(manifest.lineage.runId).toBe(result.record.runId);
    expect(manifest.lineage.parameters).toHaveProperty('model');
    // 1,903 songs: 70 % train + 15 % validation make the reference.
    expect(manifest.reference.songs).toBeGreaterThan(1550);
    expect(manifest.reference.songs).toBeLessThan(1680);
    expect(manifest.reference.features.find((f) => f.name === 'mode')?.histogram.edges).toEqual([0.5]);
    expect(manifest.reference.outputs.top1Counts.reduce((a, b) => a + b, 0)).toBe(manifest.reference.songs);
    expect(manifest.evaluation.songs).toBeGreaterThan(250);
    expect(Object.keys(manifest.evaluation.perCountryAuc)).toHaveLength(COUNTRY_CODES.length);
  });

  it('the exported files load with the app loader and pass the device warm-up check on wasm', async () => {
    await useBackend('wasm');
    const files = Object.fromEntries(
      await Promise.all(manifest.files.map(async (f) => [f.path, await readFile(join(dir, 'model', f.path))] as const)),
    );
    const parsed = parseModelFiles(files);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const model = await withTrees(parsed.value, async (d) => createDenseModel(d));
    const check = await warmUpCheck(model, manifest.parity);
    model.dispose();
    expect(check.ok).toBe(true);
    expect(manifest.parity.inputs).toHaveLength(8);
    expect(result.record.parity?.maxAbsDiff).toBeLessThanOrEqual(1e-5);
    expect(tf.memory().numTensors).toBeLessThan(10);
  });

  it('beats the baselines computed in the same run on the held-out songs', () => {
    const { model, baselines } = manifest.evaluation;
    expect(Object.keys(baselines).sort()).toEqual(['course-net', 'logistic', 'prior']);
    expect(model.macroAuc).toBeGreaterThan(baselines.logistic!.macroAuc);
    expect(model.macroAuc).toBeGreaterThan(0.7);
    expect(baselines.prior!.macroAuc).toBeCloseTo(0.5, 6);
    expect(model.top5Hit).toBeGreaterThan(baselines.prior!.top5Hit);
    console.info(
      `charts-2023 test split: model macro AUC ${model.macroAuc.toFixed(4)}, top-5 hit ${model.top5Hit.toFixed(4)}; logistic ${baselines.logistic!.macroAuc.toFixed(4)}; course-net ${baselines['course-net']!.macroAuc.toFixed(4)}`,
    );
  });

  it('writes a card that credits the dataset and states hash, metrics, calibration and fairness', async () => {
    const md = await readFile(join(dir, 'model', 'card.md'), 'utf8');
    expect(md).toContain('Top Spotify Songs in 73 Countries (Daily Updated)');
    expect(md).toContain('asaniczka');
    expect(md).toContain(manifest.lineage.datasets[0]!.sha256);
    expect(md).toMatch(/\| logistic \| 0\.\d{4} /);
    expect(md).toMatch(/## Calibration/);
    expect(md).toMatch(/statistical parity difference .* is 0\.\d{4} \([A-Z]{2}\)/);
    const card = JSON.parse(await readFile(join(dir, 'model', 'card.json'), 'utf8'));
    expect(card.model.version).toBe(manifest.version);
    expect(card.fairness.explicitSongs + card.fairness.nonExplicitSongs).toBe(manifest.evaluation.songs);
  });

  it('records the run, and an unchanged re-run reuses every step in seconds', async () => {
    const again = await runPipeline({
      ...throwawayRunOptions(dir, [data]),
      out: join(dir, 'model-again'),
      production: join(dir, 'model'),
    });
    expect(again.record.steps.every((s) => s.hit)).toBe(true);
    expect(again.record.durationMs).toBeLessThan(5000);
    expect(again.manifest?.version).toBe(manifest.version);
    const runs = await listRuns(join(dir, 'runs'));
    expect(runs.map((r) => r.status)).toEqual(['published', 'published']);
  });
});
