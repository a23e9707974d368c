/**
 * Pipeline benchmark (run once or twice, the machine is shared):
 *   npx tsx test/bench/pipeline.ts [--data ../shared/data/charts-2023.csv] [--epochs 3]
 * Prints full-run time and cached re-run time against their targets, and
 * training time per epoch of the same network on the same data on the wasm
 * and cpu backends, side by side with the ratio. Notes the load average,
 * since other engineers share the 2 cores.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FEATURE_NAMES } from '../../model/contract/index.ts';
import { type TrainingBackend, useBackend } from '../../model/pipeline/backend.ts';
import { ingestFiles } from '../../model/pipeline/ingest.ts';
import { DEFAULT_OPTIONS, runPipeline } from '../../model/pipeline/run-pipeline.ts';
import { applyScaler, fitScaler } from '../../model/pipeline/scaler.ts';
import { splitBySong } from '../../model/pipeline/split.ts';
import { buildTargets, featureMatrix, labelMatrix } from '../../model/pipeline/targets.ts';
import { trainNetwork } from '../../model/pipeline/train.ts';
import { validateTables } from '../../model/pipeline/validate.ts';
import { requireSharedDataFile } from '../../model/shared-data.ts';
import { throwawayRunOptions } from '../../model/testing/pipeline-options.ts';
import { emitResult, verdict } from './report.ts';

const { values } = parseArgs({
  options: { data: { type: 'string' }, epochs: { type: 'string' } },
});
const data = resolve(values.data ?? requireSharedDataFile('charts-2023.csv'));
const epochs = Number(values.epochs ?? 3);
const load = () => loadavg()[0]?.toFixed(2) ?? '?';

const dir = await mkdtemp(join(tmpdir(), 'bench-pipeline-'));
const options = throwawayRunOptions(dir, [data]);

const rows: string[][] = [['measure', 'ours', 'target / peer', 'ratio', 'load avg']];

let t0 = performance.now();
await runPipeline(options);
const full = (performance.now() - t0) / 1000;
rows.push(['full run, cold cache (s)', full.toFixed(1), '90', (full / 90).toFixed(2), load()]);

t0 = performance.now();
const again = await runPipeline({ ...options, out: join(dir, 'model2') });
const cached = (performance.now() - t0) / 1000;
const hits = again.record.steps.filter((s) => s.hit).length;
rows.push([
  `cached re-run, in process (s; ${hits}/${again.record.steps.length} steps cached)`,
  cached.toFixed(2),
  '5',
  (cached / 5).toFixed(2),
  load(),
]);

t0 = performance.now();
const cli = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    'model/pipeline/cli.ts',
    '--data',
    data,
    '--cache-dir',
    options.cacheDir,
    '--runs-dir',
    options.runsDir,
    '--production',
    'none',
    '--quiet',
  ],
  { encoding: 'utf8' },
);
const cliSecs = (performance.now() - t0) / 1000;
if (cli.status !== 0) throw new Error(`cached CLI run failed: ${cli.stderr}`);
rows.push(['cached re-run via CLI incl. process start (s)', cliSecs.toFixed(2), '5', (cliSecs / 5).toFixed(2), load()]);

// Training speed: the shipped network (one member), same data and seed, wasm vs cpu.
const ing = await ingestFiles([data]);
if (!ing.ok) throw new Error('data unreadable');
const v = validateTables(ing.tables);
if (!v.ok) throw new Error('data invalid');
const split = splitBySong(buildTargets(v.rows).songs, { seed: 42, validationShare: 0.15, testShare: 0.15 });
const scaler = fitScaler(featureMatrix(split.train), split.train.length, FEATURE_NAMES.length);
const m = (s: typeof split.train) => ({ x: applyScaler(featureMatrix(s), scaler), y: labelMatrix(s), rows: s.length });
const train = m(split.train);
const val = m(split.validation);
const perEpoch: Partial<Record<TrainingBackend, number>> = {};
for (const backend of ['wasm', 'cpu'] as const) {
  await useBackend(backend);
  const r = await trainNetwork(train, val, { ...DEFAULT_OPTIONS.model, maxEpochs: epochs, patience: epochs, seed: 42 });
  perEpoch[backend] = r.history.reduce((a, h) => a + h.ms, 0) / r.history.length;
}
const hidden = DEFAULT_OPTIONS.model.hidden.join('→');
rows.push([
  `train ms/epoch, 13→${hidden}→72, ${train.rows} songs: wasm vs cpu`,
  (perEpoch.wasm ?? 0).toFixed(0),
  (perEpoch.cpu ?? 0).toFixed(0),
  `${((perEpoch.cpu ?? 0) / (perEpoch.wasm ?? 1)).toFixed(1)}× faster`,
  load(),
]);

emitResult({
  bench: 'pipeline',
  metric: 'full pipeline run, cold cache',
  ours: `${full.toFixed(1)} s`,
  peer: 'target 90 s',
  ratio: `${(full / 90).toFixed(2)}× of target`,
  target: `≤ 90 s ${verdict(full <= 90)}`,
});
emitResult({
  bench: 'pipeline',
  metric: 'cached re-run, nothing changed (CLI incl. process start)',
  ours: `${cliSecs.toFixed(2)} s`,
  peer: `cold run ${full.toFixed(1)} s`,
  ratio: `${(full / cliSecs).toFixed(0)}× faster`,
  target: `≤ 5 s ${verdict(cliSecs <= 5)}`,
});
emitResult({
  bench: 'pipeline',
  metric: `training ms/epoch, 13→${hidden}→72, wasm backend`,
  ours: `${(perEpoch.wasm ?? 0).toFixed(0)} ms`,
  peer: `cpu backend ${(perEpoch.cpu ?? 0).toFixed(0)} ms`,
  ratio: `${((perEpoch.cpu ?? 0) / (perEpoch.wasm ?? 1)).toFixed(1)}× faster`,
  target: '—',
});
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  '));
console.log(
  `\nfull run: ${again.record.metrics?.model.macroAuc.toFixed(4)} macro AUC on the test songs; ${epochs} epochs per backend for the speed rows`,
);
await rm(dir, { recursive: true, force: true });
