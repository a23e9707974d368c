import { describe, expect, it } from 'vitest';
import { FEATURE_NAMES } from '../contract/index.ts';
import type { SourceTable } from './ingest.ts';
import { formatProblem } from './problems.ts';
import { validateTables } from './validate.ts';

const header = ['spotify_id', 'country', ...FEATURE_NAMES];
const base = {
  spotify_id: 'a',
  country: 'DE',
  is_explicit: 'TRUE',
  duration_ms: '200000',
  danceability: '0.5',
  energy: '0.6',
  key: '5',
  loudness: '-6.5',
  mode: '1',
  speechiness: '0.05',
  acousticness: '0.2',
  instrumentalness: '0',
  liveness: '0.1',
  valence: '0.4',
  tempo: '120.5',
};

function table(rows: Record<string, string>[], columns = header): SourceTable {
  return { file: 'x.csv', name: 'x.csv', format: 'csv', sha256: '0'.repeat(64), columns, rows, firstRowNumber: 2 };
}

describe('validate', () => {
  it('keeps good rows, reads booleans in any case and the global chart as null', () => {
    const r = validateTables([
      table([base, { ...base, country: '', is_explicit: 'true' }, { ...base, spotify_id: 'b', is_explicit: 'False' }]),
    ]);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.rows.map((x) => [x.songId, x.country, x.features[0]])).toEqual([
      ['a', 'DE', 1],
      ['a', null, 1],
      ['b', 'DE', 0],
    ]);
    expect(r.report.globalChartRows).toBe(1);
  });

  it('names file, row and column of a missing column, a non-number, an out-of-range value and an unknown country', () => {
    const missing = validateTables([
      table(
        [base],
        header.filter((c) => c !== 'tempo'),
      ),
    ]);
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(formatProblem(missing.problems[0]!)).toMatch(/^x\.csv:1:tempo: csv-missing-column: /);

    const bad = validateTables([
      table([base, { ...base, energy: 'loud' }, { ...base, danceability: '1.4' }, { ...base, country: 'XX' }]),
    ]);
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    const lines = bad.problems.map(formatProblem);
    expect(lines[0]).toMatch(/^x\.csv:3:energy: feature-not-a-number: Must be a number\. \(got "loud"\)$/);
    expect(lines[1]).toMatch(/^x\.csv:4:danceability: feature-out-of-range: .*got "1\.4"; valid 0 to 1/);
    expect(lines[2]).toMatch(/^x\.csv:5:country: unknown-country: .*"XX"/);
  });

  it('drops exact duplicate rows and resolves conflicting features to the most frequent vector', () => {
    const r = validateTables([
      table([
        base,
        base,
        { ...base, country: 'FR', energy: '0.9' },
        { ...base, country: 'IT' },
        { ...base, spotify_id: 'b', country: 'IT' },
      ]),
    ]);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.report.exactDuplicateRows).toBe(1);
    expect(r.report.songsWithConflictingFeatures).toBe(1);
    expect(r.report.rowsWithFeaturesReplaced).toBe(1);
    const energies = r.rows.filter((x) => x.songId === 'a').map((x) => x.features[3]);
    expect(energies).toEqual([0.6, 0.6, 0.6]);
  });

  it('stops at maxProblems and says so', () => {
    const bad = { ...base, tempo: 'x' };
    const r = validateTables([table([bad, bad, bad])], 2);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toHaveLength(2);
    expect(r.truncated).toBe(true);
    const one = validateTables([table([bad])], 2);
    expect(!one.ok && one.truncated).toBe(false);
  });
});
