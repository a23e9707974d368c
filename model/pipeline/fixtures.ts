/**
 * Small synthetic chart files for the pipeline's tests, built by the tests
 * themselves: songs with random audio features that chart in a country when
 * they fall near that country's (non-linear) "taste" centre, written as CSV
 * in the Kaggle chart schema or as Parquet with the same columns.
 */
import { spawn } from 'node:child_process';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { COUNTRY_CODES, FEATURE_NAMES } from '../contract/index.ts';
import { mulberry32 } from './prng.ts';

export const CHART_COLUMNS = [
  'spotify_id',
  'daily_rank',
  'daily_movement',
  'weekly_movement',
  'country',
  'popularity',
  ...FEATURE_NAMES,
  'time_signature',
] as const;

export type ChartRecord = Record<(typeof CHART_COLUMNS)[number], string | number | boolean>;

export interface FixtureOptions {
  readonly songs: number;
  readonly seed: number;
  /** How many of the 72 countries get songs (the rest have none). */
  readonly countries?: number;
}

const round = (v: number, d = 3) => Number(v.toFixed(d));

export function syntheticCharts(o: FixtureOptions): ChartRecord[] {
  const random = mulberry32(o.seed);
  const nCountries = o.countries ?? 12;
  // Taste centres inside the cube with a small radius: balls a linear model cannot draw, a hidden layer can.
  const centres = Array.from(
    { length: nCountries },
    () => [0.25 + random() / 2, 0.25 + random() / 2, 0.25 + random() / 2] as const,
  );
  const rows: ChartRecord[] = [];
  for (let s = 0; s < o.songs; s++) {
    const id = `song${String(s).padStart(5, '0')}${Math.floor(random() * 1e6).toString(36)}`;
    const f = {
      is_explicit: random() < 0.3,
      duration_ms: Math.round(120_000 + random() * 180_000),
      danceability: round(random()),
      energy: round(random()),
      key: Math.floor(random() * 12),
      loudness: round(-15 + random() * 14),
      mode: random() < 0.6 ? 1 : 0,
      speechiness: round(random() * 0.4),
      acousticness: round(random()),
      instrumentalness: round(random() < 0.8 ? 0 : random()),
      liveness: round(random() * 0.5),
      valence: round(random()),
      tempo: round(70 + random() * 110),
    };
    const charted: number[] = [];
    let nearest = 0;
    let nearestD = Number.POSITIVE_INFINITY;
    centres.forEach((c, i) => {
      const d = Math.hypot(f.danceability - c[0], f.energy - c[1], f.valence - c[2]);
      if (d < nearestD) {
        nearestD = d;
        nearest = i;
      }
      if (d + (random() - 0.5) * 0.05 < 0.3) charted.push(i);
    });
    if (charted.length === 0) charted.push(nearest);
    const days = 1 + Math.floor(random() * 2);
    for (const c of charted) {
      for (let d = 0; d < days; d++) {
        rows.push({
          spotify_id: id,
          daily_rank: 1 + Math.floor(random() * 50),
          daily_movement: 0,
          weekly_movement: 0,
          country: COUNTRY_CODES[c] as string,
          popularity: 50 + Math.floor(random() * 50),
          ...f,
          time_signature: 4,
        });
      }
    }
    if (random() < 0.1) rows.push({ ...(rows[rows.length - 1] as ChartRecord), country: '' });
  }
  return rows;
}

function csvCell(v: string | number | boolean): string {
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  const t = String(v);
  return /[",\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

export function toCsv(
  rows: readonly Record<string, string | number | boolean>[],
  columns: readonly string[] = CHART_COLUMNS,
): string {
  return `${[columns.join(','), ...rows.map((r) => columns.map((c) => csvCell(r[c] ?? '')).join(','))].join('\n')}\n`;
}

export function toParquet(rows: readonly ChartRecord[]): ArrayBuffer {
  return parquetWriteBuffer({
    columnData: CHART_COLUMNS.map((name) => {
      const data = rows.map((r) => r[name]);
      const sample = data[0];
      const type = typeof sample === 'boolean' ? 'BOOLEAN' : typeof sample === 'number' ? 'DOUBLE' : 'STRING';
      return { name, data: type === 'STRING' ? data.map(String) : data, type } as const;
    }),
  });
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `model/pipeline/cli.ts` as a subprocess (as `npm run pipeline` does), from the repository root. */
export function runPipelineCli(args: readonly string[], cwd = process.cwd()): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'model/pipeline/cli.ts', ...args], {
      cwd,
      env: { ...process.env, FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
