/**
 * Before/after: runs benchmarks in this tree and in a checkout of an earlier commit, in turn (base, head, head,
 * base, …, so drift in the machine's load hits both alike), and prints each summary row's numbers side by side
 * as head ÷ base medians, marking where the head is more than 5 % worse. For "no row slower than before"
 * claims on a noisy machine.
 *
 *   npx tsx test/bench/ab.ts --base ece6667 --rounds 2 ingest drift shadow
 *
 * The base is checked out once as a detached worktree in the temp folder (removed at the end) and uses this
 * tree's node_modules; the data folder is this tree's (`JUKEBOX_DATA_DIR`, else `../shared/data`); for `web` and
 * `batch` both trees are built first (`npm run build:web`).
 *
 * Each side runs its own commit's benchmark script by default (`--harness own`), so a change to the benchmark
 * itself counts as a change. `--harness head` runs this tree's `web` benchmark on both builds (the base's
 * dist/web served through `JUKEBOX_WEB_DIST`): only the app differs. It applies to `web` only; the other
 * benchmarks import the code they time from their own tree, so their script and code cannot be separated.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_SCRIPTS, type BenchResult, parseResults } from './report.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const SCRIPTS = BENCH_SCRIPTS;
const WORSE_BY = 0.05;

const { values, positionals } = parseArgs({
  options: {
    base: { type: 'string' },
    rounds: { type: 'string', default: '2' },
    harness: { type: 'string', default: 'own' },
  },
  allowPositionals: true,
});
if (!values.base || (values.harness !== 'own' && values.harness !== 'head')) {
  console.error('usage: npx tsx test/bench/ab.ts --base <commit> [--rounds N] [--harness own|head] <bench…>');
  process.exit(2);
}
/** Benchmarks that can run this tree's script on the base's build (`--harness head`). */
const HEAD_HARNESS = new Set(['web']);
const names = positionals.length > 0 ? positionals : Object.keys(SCRIPTS);
const unknown = names.filter((n) => !(n in SCRIPTS));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${Object.keys(SCRIPTS).join(', ')}`);
  process.exit(2);
}
type Side = 'base' | 'head';
const rounds = Number(values.rounds);
const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
const baseSha = git('rev-parse', '--short', values.base);
const headSha = git('rev-parse', '--short', 'HEAD');
const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
const baseDir = join(tmpdir(), `jukebox-bench-base-${baseSha}`);
if (!existsSync(baseDir)) {
  git('worktree', 'add', '--detach', baseDir, baseSha);
  symlinkSync(join(ROOT, 'node_modules'), join(baseDir, 'node_modules'));
}
const env = { ...process.env, JUKEBOX_DATA_DIR: process.env.JUKEBOX_DATA_DIR ?? resolve(ROOT, '../shared/data') };
// The browser benchmarks load each tree's own build.
if (names.some((n) => n === 'web' || n === 'batch')) {
  for (const dir of [baseDir, ROOT]) execFileSync('npm', ['run', 'build:web'], { cwd: dir, env, stdio: 'ignore' });
}

function run(side: Side, name: string): Promise<BenchResult[]> {
  const script = SCRIPTS[name] as string;
  const sameHarness = values.harness === 'head' && HEAD_HARNESS.has(name);
  const dir = side === 'head' || sameHarness ? ROOT : baseDir;
  const sideEnv = side === 'base' && sameHarness ? { ...env, JUKEBOX_WEB_DIST: join(baseDir, 'dist/web') } : env;
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: dir,
      env: sideEnv,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (c: string) => {
      out += c;
    });
    child.on('close', (code) =>
      code === 0 ? done(parseResults(out)) : fail(new Error(`${script} in ${dir} (${side}) exited ${code}`)),
    );
  });
}

/** "12351 logs/s, p99 116 ms" → [[12351, 'logs/s'], [116, 'ms']]: the numbers a row reports, with units. */
function quantities(text: string): [number, string][] {
  const out: [number, string][] = [];
  for (const m of text.matchAll(/(-?\d[\d,]*(?:\.\d+)?)\s*(ms|s\b|[a-z]+\/s|MACs|×|%)?/g)) {
    const n = Number((m[1] as string).replaceAll(',', ''));
    if (Number.isFinite(n) && m[2]) out.push([n, m[2]]);
  }
  return out;
}

/** +1 when more is better (a rate), −1 when less is (a time), 0 when the unit does not say. */
const direction = (unit: string) => (unit.endsWith('/s') ? 1 : unit === 'ms' || unit === 's' ? -1 : 0);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

const seen = new Map<string, Record<Side, string[]>>();
for (let r = 0; r < rounds; r++) {
  const order: Side[] = r % 2 === 0 ? ['base', 'head'] : ['head', 'base'];
  for (const name of names) {
    for (const side of order) {
      const t0 = performance.now();
      const results = await run(side, name);
      console.log(
        `round ${r + 1}, ${name}, ${side}: ${results.length} rows in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
      );
      for (const x of results) {
        console.log(`  ${x.metric}: ${x.ours}`);
        const key = `${x.bench} | ${x.metric}`;
        const e = seen.get(key) ?? { base: [], head: [] };
        e[side].push(x.ours);
        seen.set(key, e);
      }
    }
  }
}

const f = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : n.toPrecision(3));
/** A side's median with its range over the rounds, so a reader sees how far apart the rounds were. */
const spread = (xs: number[]) =>
  xs.length > 1 ? `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})` : f(median(xs));
const lines = [
  `Base ${baseSha}, head ${headSha}${dirty ? ' (+ uncommitted changes)' : ''}; ${rounds} rounds, alternating; medians (lowest–highest round); ${values.harness === 'head' ? `this tree's benchmark script on both builds for ${names.filter((n) => HEAD_HARNESS.has(n)).join(', ') || 'none'}, each commit's own for the rest` : "each commit's own benchmark scripts"}. Measured ${new Date().toISOString().slice(0, 16)}Z on ${cpus().length} cores (load average ${loadavg()[0]?.toFixed(1)} at the end).`,
  '',
  '| row | quantity | base | head | head ÷ base | worse by > 5 %? |',
  '|---|---|---|---|---|---|',
];
let worse = 0;
for (const [key, e] of seen) {
  if (e.base.length === 0 || e.head.length === 0) {
    lines.push(
      `| ${key} | — | ${e.base.length ? 'reported' : 'not in base'} | ${e.head.length ? 'reported' : 'not in head'} | — | — |`,
    );
    continue;
  }
  const b = e.base.map(quantities);
  const h = e.head.map(quantities);
  const count = Math.min(...b.map((q) => q.length), ...h.map((q) => q.length));
  for (let i = 0; i < count; i++) {
    const unit = ((b[0] as [number, string][])[i] as [number, string])[1];
    const bs = b.map((q) => (q[i] as [number, string])[0]);
    const hs = h.map((q) => (q[i] as [number, string])[0]);
    const bm = median(bs);
    const hm = median(hs);
    const ratio = hm / bm;
    const dir = direction(unit);
    const isWorse = dir !== 0 && (dir > 0 ? ratio < 1 - WORSE_BY : ratio > 1 + WORSE_BY);
    if (isWorse) worse++;
    lines.push(
      `| ${key.replaceAll('|', '\\|')} | ${unit} #${i + 1} | ${spread(bs)} | ${spread(hs)} | ${ratio.toFixed(2)} | ${dir === 0 ? '(no direction)' : isWorse ? '**worse**' : 'no'} |`,
    );
  }
}
lines.push('', `${worse} quantit${worse === 1 ? 'y' : 'ies'} more than 5 % worse in the head.`);
const table = lines.join('\n');
console.log(`\n${table}`);
const out = resolve(ROOT, 'test/artifacts/bench');
mkdirSync(out, { recursive: true });
writeFileSync(resolve(out, `ab-${baseSha}-${headSha}.md`), `${table}\n`);
git('worktree', 'remove', '--force', baseDir);
rmSync(baseDir, { recursive: true, force: true });
