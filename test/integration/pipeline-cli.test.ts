/**
 * The pipeline CLI as a user runs it (a subprocess), on small synthetic chart
 * files the test writes: bad inputs, publishing, caching, determinism,
 * Parquet input, the gate and the runs listing.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManifestSchema } from '../../model/contract/index.ts';
import { CHART_COLUMNS, runPipelineCli, syntheticCharts, toCsv, toParquet } from '../../model/pipeline/fixtures.ts';
import { listRuns } from '../../model/pipeline/runs.ts';
import { FAST } from './support/field-server.ts';

let dir: string;
let csv: string;
const sha = async (f: string) =>
  createHash('sha256')
    .update(await readFile(f))
    .digest('hex');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pipeline-cli-'));
  const rows = syntheticCharts({ songs: 400, seed: 5 });
  csv = join(dir, 'charts.csv');
  await writeFile(csv, toCsv(rows));
  await writeFile(join(dir, 'charts.parquet'), new Uint8Array(toParquet(rows)));
});

describe('pipeline CLI on bad input files', () => {
  const base = syntheticCharts({ songs: 3, seed: 1 });
  const cases: [string, string | Uint8Array, RegExp][] = [
    [
      'missing-column.csv',
      toCsv(
        base,
        CHART_COLUMNS.filter((c) => c !== 'energy'),
      ),
      /missing-column\.csv:1:energy: csv-missing-column: /,
    ],
    [
      'not-a-number.csv',
      toCsv([{ ...base[0]!, tempo: 'fast' }]),
      /not-a-number\.csv:2:tempo: feature-not-a-number: Must be a number\. \(got "fast"\)/,
    ],
    [
      'out-of-range.csv',
      toCsv([base[0]!, { ...base[0]!, loudness: 12 }]),
      /out-of-range\.csv:3:loudness: feature-out-of-range: .*got "12"; valid -60 to 5/,
    ],
    ['empty.csv', '', /empty\.csv: file-empty: The file is empty\./],
    [
      'binary.csv',
      new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0xff]),
      /binary\.csv: file-binary: The file is not text/,
    ],
  ];
  for (const [name, body, expected] of cases) {
    it(`${name}: a specific error line, no stack trace, exit 1`, async () => {
      const f = join(dir, name);
      await writeFile(f, body);
      const r = await runPipelineCli(['--data', f, '--no-cache', '--runs-dir', join(dir, 'bad-runs'), '--quiet']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(expected);
      expect(r.stderr).toMatch(/pipeline stopped: /);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }

  it('records failed runs too', async () => {
    const runs = await listRuns(join(dir, 'bad-runs'));
    expect(runs.length).toBeGreaterThanOrEqual(cases.length);
    expect(runs.every((r) => r.status === 'failed' && r.error !== undefined)).toBe(true);
  });

  it('usage errors exit 2 with the help text', async () => {
    const r = await runPipelineCli(['--seed', 'x', '--data', csv]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--seed must be a whole number/);
    const missing = await runPipelineCli(['--data', csv, '--production', join(dir, 'no-such-model')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no-such-model does not exist/);
    const none = await runPipelineCli([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--data is required/);
  });
});

describe('pipeline CLI end to end on a synthetic chart file', () => {
  const cache = () => join(dir, 'cache');
  const runs = () => join(dir, 'runs');
  const common = () => ['--cache-dir', cache(), '--runs-dir', runs(), '--production', 'none', ...FAST, '--quiet'];
  const uncached = () => ['--no-cache', '--runs-dir', runs(), '--production', 'none', ...FAST, '--quiet'];

  it('publishes model, manifest and card; an unchanged re-run reuses every step', async () => {
    const out = join(dir, 'out-a');
    const first = await runPipelineCli(['--data', csv, '--out', out, ...common()]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^published: v[0-9a-f]{12} /);
    for (const f of ['model.json', 'weights.bin', 'manifest.json', 'card.md', 'card.json'])
      expect(existsSync(join(out, f))).toBe(true);
    const manifest = ManifestSchema.parse(JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')));
    expect(manifest.files.find((f) => f.path === 'weights.bin')?.sha256).toBe(await sha(join(out, 'weights.bin')));

    const t0 = Date.now();
    const again = await runPipelineCli(['--data', csv, '--out', join(dir, 'out-a2'), ...common()]);
    const secs = (Date.now() - t0) / 1000;
    expect(again.code, again.stderr).toBe(0);
    const all = await listRuns(runs());
    const last = all[all.length - 1]!;
    expect(last.steps.length).toBeGreaterThan(8);
    expect(last.steps.every((s) => s.hit)).toBe(true);
    expect(secs).toBeLessThan(15); // includes process start; the target for the run itself is ≤ 5 s
    expect(last.durationMs).toBeLessThan(5000);
    expect(await sha(join(dir, 'out-a2', 'weights.bin'))).toBe(await sha(join(out, 'weights.bin')));
  });

  it('changing one training parameter re-runs only the steps downstream of it', async () => {
    const r = await runPipelineCli(['--data', csv, ...common(), '--dropout', '0.1']);
    expect(r.code, r.stderr).toBe(0);
    const all = await listRuns(runs());
    const steps = Object.fromEntries(all[all.length - 1]!.steps.map((s) => [s.step, s.hit]));
    expect(steps).toMatchObject({
      data: true,
      targets: true,
      split: true,
      'train-logistic': true,
      'train-course': true,
      'train-model': false,
      evaluate: false,
      export: false,
      parity: false,
      reference: false,
    });
  });

  it('same data and seed give byte-identical weights without any cache; Parquet input gives the same model', async () => {
    const b = join(dir, 'out-b');
    const p = join(dir, 'out-p');
    const r1 = await runPipelineCli(['--data', csv, '--out', b, ...uncached()]);
    const r2 = await runPipelineCli(['--data', join(dir, 'charts.parquet'), '--out', p, ...uncached()]);
    expect(r1.code, r1.stderr).toBe(0);
    expect(r2.code, r2.stderr).toBe(0);
    const a = await sha(join(dir, 'out-a', 'weights.bin'));
    expect(await sha(join(b, 'weights.bin'))).toBe(a);
    expect(await sha(join(p, 'weights.bin'))).toBe(a);
    const other = await runPipelineCli(['--data', csv, '--seed', '7', ...uncached()]);
    expect(other.code).toBe(0);
    expect(other.stdout).not.toContain(JSON.parse(await readFile(join(b, 'manifest.json'), 'utf8')).version);
  });

  it('the gate refuses a model worse than production: exit 1, nothing written, run recorded', async () => {
    const out = join(dir, 'out-worse');
    const r = await runPipelineCli([
      ...['--data', csv, '--out', out, '--cache-dir', cache(), '--runs-dir', runs()],
      ...[
        '--production',
        join(dir, 'out-a'),
        '--hidden',
        '4',
        '--max-epochs',
        '1',
        '--learning-rate',
        '0.0001',
        '--cv-folds',
        '0',
        '--quiet',
      ],
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /pipeline stopped: gate-failed: .*vs production v[0-9a-f]{12} [0-9.]+ on the same songs: worse by/,
    );
    expect(existsSync(out)).toBe(false);
    const all = await listRuns(runs());
    expect(all[all.length - 1]?.status).toBe('gate-failed');
  });

  it('`runs` lists every recorded run and compares two', async () => {
    const list = await runPipelineCli(['runs', '--runs-dir', runs()]);
    expect(list.code).toBe(0);
    const all = await listRuns(runs());
    for (const run of all) expect(list.stdout).toContain(run.runId);
    expect(list.stdout).toMatch(/gate-failed/);
    const cmp = await runPipelineCli(['runs', '--runs-dir', runs(), '--compare', all[0]!.runId, all[2]!.runId]);
    expect(cmp.code).toBe(0);
    expect(cmp.stdout).toMatch(/model\.dropout\s+0\.3\s+0\.1/);
    expect(cmp.stdout).toMatch(/macroAuc/);
  });
});
