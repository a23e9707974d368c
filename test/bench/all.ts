/**
 * `npm run bench`: runs every benchmark under test/bench/ one after another
 * (never in parallel: the machine has 2 cores) and prints one table of their
 * summary results — ours beside the peer or baseline measured in the same
 * run, as ratios — also written to test/artifacts/bench/summary.md.
 * Each benchmark's own detailed output is streamed as it runs.
 *
 *   npm run bench                    (all)
 *   npm run bench -- drift ingest    (some)
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { BENCH_SCRIPTS, type BenchResult, parseResults } from './report.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BENCHES = BENCH_SCRIPTS;

function runOne(name: string, script: string): Promise<{ results: BenchResult[]; code: number; seconds: number }> {
  const t0 = performance.now();
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      for (const line of chunk.split('\n'))
        if (line && !line.startsWith('BENCH-RESULT ')) process.stdout.write(`[${name}] ${line}\n`);
    });
    child.on('close', (code) =>
      done({ results: parseResults(out), code: code ?? 1, seconds: (performance.now() - t0) / 1000 }),
    );
  });
}

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !(w in BENCHES));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}
const names = wanted.length > 0 ? wanted : Object.keys(BENCHES);
const all: BenchResult[] = [];
const failed: string[] = [];
for (const name of names) {
  console.log(`\n=== ${name} (${BENCHES[name]}) ===`);
  const r = await runOne(name, BENCHES[name] as string);
  all.push(...r.results);
  if (r.code !== 0 || r.results.length === 0) failed.push(`${name} (exit ${r.code}, ${r.results.length} results)`);
  console.log(`=== ${name}: ${r.seconds.toFixed(0)} s ===`);
}

const esc = (s: string) => s.replaceAll('|', '\\|');
const lines = [
  `Measured ${new Date().toISOString().slice(0, 16)}Z on ${cpus().length} cores (load average ${loadavg()[0]?.toFixed(1)} at the end).`,
  '',
  '| bench | what | ours | peer / baseline (same run) | ratio | target |',
  '|---|---|---|---|---|---|',
  ...all.map(
    (r) => `| ${r.bench} | ${esc(r.metric)} | ${esc(r.ours)} | ${esc(r.peer)} | ${esc(r.ratio)} | ${esc(r.target)} |`,
  ),
];
const table = lines.join('\n');
console.log(`\n${table}`);
const dir = resolve(ROOT, 'test/artifacts/bench');
mkdirSync(dir, { recursive: true });
writeFileSync(resolve(dir, 'summary.md'), `${table}\n`);
if (failed.length > 0) {
  console.error(`\nbenchmarks that failed or reported nothing: ${failed.join('; ')}`);
  process.exitCode = 1;
}
