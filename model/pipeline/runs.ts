/**
 * Step 10, runs: every pipeline run is recorded as one JSON file in the runs
 * directory (parameters, metrics, gate, artifacts, step cache hits, duration),
 * whatever its outcome; `pipeline runs` lists and compares them.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Metrics } from '../contract/index.ts';
import type { GateResult } from './gate.ts';
import type { ParityReport } from './parity.ts';
import type { CvOutcome } from './run-pipeline.ts';

export interface RunRecord {
  readonly runId: string;
  readonly startedAt: string;
  /** published: written to --out; passed: gate and parity passed, no --out given. */
  readonly status: 'published' | 'passed' | 'gate-failed' | 'failed';
  readonly durationMs: number;
  readonly data: readonly { file: string; name?: string; sha256?: string; rows?: number }[];
  readonly parameters: Record<string, unknown>;
  readonly out: string | null;
  readonly steps: readonly { step: string; key: string; hit: boolean; ms: number }[];
  readonly messages: string[];
  readonly version?: string;
  readonly metrics?: { model: Metrics; baselines: Record<string, Metrics>; production?: Metrics };
  /** Validation macro AUC per trained network: what tuning looks at (test metrics are for reporting). */
  readonly validation?: Record<string, number>;
  readonly gate?: GateResult;
  /** Per-fold scores of every candidate, the intervals, the selection and the refit: the gate's evidence. */
  readonly crossValidation?: Omit<CvOutcome, never>;
  readonly parity?: ParityReport;
  readonly artifacts?: readonly { path: string; sha256: string; bytes: number }[];
  readonly error?: { code: string; message: string; problems: number };
}

/** Sortable by time, unique across parallel runs. */
export function newRunId(at: Date): string {
  return `${at.toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`;
}

export async function recordRun(dir: string, r: RunRecord): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${r.runId}.json`);
  await writeFile(file, `${JSON.stringify(r, null, 2)}\n`);
  return file;
}

export async function listRuns(dir: string): Promise<RunRecord[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch {
    return [];
  }
  const out: RunRecord[] = [];
  for (const n of names) {
    try {
      out.push(JSON.parse(await readFile(join(dir, n), 'utf8')) as RunRecord);
    } catch {
      // A run being written right now, or a stray file: not a run record.
    }
  }
  return out;
}

const num = (n: number | undefined, d = 4) => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(d));

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** One line per run: id, status, duration, cache hits, key parameters and test metrics. */
export function formatRunsTable(runs: readonly RunRecord[]): string {
  const rows = [
    [
      'run',
      'status',
      'secs',
      'cached',
      'seed',
      'hidden',
      'members',
      'val AUC',
      'test AUC',
      'logistic',
      'top5',
      'version',
    ],
  ];
  for (const r of runs) {
    const p = r.parameters as { seed?: number; model?: { hidden?: number[]; members?: number } };
    rows.push([
      r.runId,
      r.status,
      (r.durationMs / 1000).toFixed(1),
      `${r.steps.filter((s) => s.hit).length}/${r.steps.length}`,
      String(p.seed ?? '-'),
      (p.model?.hidden ?? []).join('x') || '-',
      String(p.model?.members ?? 1),
      num(r.validation?.model),
      num(r.metrics?.model.macroAuc),
      num(r.metrics?.baselines.logistic?.macroAuc),
      num(r.metrics?.model.top5Hit),
      r.version ?? (r.error ? r.error.code : '-'),
    ]);
  }
  return table(rows);
}

function flatten(o: unknown, prefix = ''): Record<string, string> {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return { [prefix]: JSON.stringify(o) };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) Object.assign(out, flatten(v, prefix ? `${prefix}.${k}` : k));
  return out;
}

/** Side by side: the parameters that differ, then every test metric with the difference b − a. */
export function formatRunComparison(a: RunRecord, b: RunRecord): string {
  const pa = flatten(a.parameters);
  const pb = flatten(b.parameters);
  const keys = [...new Set([...Object.keys(pa), ...Object.keys(pb)])].sort();
  const rows = [['', a.runId, b.runId, 'b − a']];
  rows.push(['status', a.status, b.status, '']);
  rows.push(['seconds', (a.durationMs / 1000).toFixed(1), (b.durationMs / 1000).toFixed(1), '']);
  for (const k of keys) if (pa[k] !== pb[k]) rows.push([k, pa[k] ?? '-', pb[k] ?? '-', '']);
  rows.push([
    'validation macroAuc',
    num(a.validation?.model),
    num(b.validation?.model),
    a.validation?.model !== undefined && b.validation?.model !== undefined
      ? num(b.validation.model - a.validation.model)
      : '-',
  ]);
  const names = ['macroAuc', 'microAuc', 'top5Hit', 'precisionAt5', 'recallAt5', 'brier'] as const;
  for (const m of names) {
    const va = a.metrics?.model[m];
    const vb = b.metrics?.model[m];
    rows.push([m, num(va), num(vb), va !== undefined && vb !== undefined ? num(vb - va) : '-']);
  }
  rows.push(['version', a.version ?? '-', b.version ?? '-', '']);
  return table(rows);
}
