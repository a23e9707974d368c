/**
 * Step 2, validate: checks every file's columns and every row's values
 * against the contract (feature ranges, country codes) and reports each
 * problem as file, row, column and code. Rows that are wrong but fixable by a
 * stated rule are kept and counted:
 * - exact duplicate rows (every cell equal) are dropped: they add nothing to a
 *   song's set of countries;
 * - a song whose rows disagree on its audio features gets the most frequent
 *   feature vector among its rows (ties: the one seen first) on every row.
 */
import {
  COUNTRY_CODES,
  type CountryCode,
  FEATURE_NAMES,
  FEATURE_SPECS,
  type FieldError,
  parseFeatures,
} from '../contract/index.ts';
import type { Cell, SourceTable } from './ingest.ts';
import type { Problem } from './problems.ts';

export const REQUIRED_COLUMNS = ['spotify_id', 'country', ...FEATURE_NAMES] as const;

export interface ChartRow {
  readonly songId: string;
  /** null = the global chart. */
  readonly country: CountryCode | null;
  /** Raw feature values in FEATURE_NAMES order (is_explicit as 0/1). */
  readonly features: readonly number[];
}

export interface ValidationReport {
  readonly files: number;
  readonly rowsRead: number;
  readonly rowsKept: number;
  readonly globalChartRows: number;
  readonly exactDuplicateRows: number;
  readonly songsWithConflictingFeatures: number;
  readonly rowsWithFeaturesReplaced: number;
  readonly rules: readonly string[];
}

export type ValidateResult =
  | { ok: true; rows: ChartRow[]; report: ValidationReport }
  | {
      ok: false;
      problems: Problem[];
      rowsRead: number /** true when validation stopped at maxProblems. */;
      truncated: boolean;
    };

const COUNTRY_SET = new Set<string>(COUNTRY_CODES);
const FEATURES_BY_NAME = new Map(FEATURE_SPECS.map((s) => [s.name, s]));

export const VALIDATION_RULES = [
  'exact duplicate rows (every cell equal) are dropped',
  'a song whose rows disagree on audio features takes its most frequent feature vector (ties: first seen)',
  'rows of the global chart (empty country) are kept for song features but are not a target country',
] as const;

function fieldProblem(file: string, row: number, e: FieldError): Problem {
  const spec = e.field;
  const got = e.value === undefined || e.value === null ? 'empty' : JSON.stringify(e.value);
  return { file, row, column: spec, code: e.code, detail: `got ${got}` };
}

function cellText(c: Cell | undefined): string {
  return c === null || c === undefined ? '' : String(c).trim();
}

/** Validates all tables; returns every problem (up to `maxProblems`) or the clean rows. */
export function validateTables(tables: readonly SourceTable[], maxProblems = 200): ValidateResult {
  const problems: Problem[] = [];
  const rows: ChartRow[] = [];
  let rowsRead = 0;
  let globalChartRows = 0;
  let exactDuplicateRows = 0;
  const seenRows = new Set<string>();

  for (const t of tables) {
    const missing = REQUIRED_COLUMNS.filter((c) => !t.columns.includes(c));
    for (const c of missing) {
      problems.push({
        file: t.file,
        row: 1,
        column: c,
        code: 'csv-missing-column',
        detail: `header has ${t.columns.length} columns`,
      });
    }
    if (missing.length > 0) continue;
    t.rows.forEach((record, i) => {
      rowsRead += 1;
      if (problems.length >= maxProblems) return;
      const rowNo = t.firstRowNumber + i;
      const songId = cellText(record.spotify_id);
      if (songId === '')
        problems.push({
          file: t.file,
          row: rowNo,
          column: 'spotify_id',
          code: 'feature-missing',
          detail: 'empty track id',
        });
      const countryText = cellText(record.country).toUpperCase();
      if (countryText !== '' && !COUNTRY_SET.has(countryText)) {
        problems.push({
          file: t.file,
          row: rowNo,
          column: 'country',
          code: 'unknown-country',
          detail: `got ${JSON.stringify(countryText)}`,
        });
      }
      const parsed = parseFeatures(record);
      if (!parsed.ok) {
        for (const e of parsed.errors) {
          const p = fieldProblem(t.file, rowNo, e);
          const spec = e.code === 'feature-out-of-range' ? rangeNote(e.field) : '';
          problems.push(spec ? { ...p, detail: `${p.detail}; ${spec}` } : p);
        }
        return;
      }
      if (songId === '' || (countryText !== '' && !COUNTRY_SET.has(countryText))) return;
      const key = JSON.stringify(Object.entries(record));
      if (seenRows.has(key)) {
        exactDuplicateRows += 1;
        return;
      }
      seenRows.add(key);
      if (countryText === '') globalChartRows += 1;
      rows.push({
        songId,
        country: countryText === '' ? null : (countryText as CountryCode),
        features: FEATURE_NAMES.map((n) => parsed.value[n]),
      });
    });
  }
  if (problems.length > 0) return { ok: false, problems, rowsRead, truncated: problems.length >= maxProblems };
  if (rows.length === 0) {
    return {
      ok: false,
      problems: [{ file: tables.map((t) => t.file).join(','), code: 'no-usable-rows' }],
      rowsRead,
      truncated: false,
    };
  }

  // The same song with different feature values: keep its most frequent vector (ties: first seen).
  const bySong = new Map<string, number[]>();
  rows.forEach((r, i) => {
    const list = bySong.get(r.songId);
    if (list) list.push(i);
    else bySong.set(r.songId, [i]);
  });
  let songsWithConflictingFeatures = 0;
  let rowsWithFeaturesReplaced = 0;
  for (const idx of bySong.values()) {
    const counts = new Map<string, { n: number; first: number }>();
    for (const i of idx) {
      const k = (rows[i] as ChartRow).features.join(',');
      const c = counts.get(k);
      if (c) c.n += 1;
      else counts.set(k, { n: 1, first: i });
    }
    if (counts.size <= 1) continue;
    songsWithConflictingFeatures += 1;
    let best: { n: number; first: number } | undefined;
    for (const c of counts.values()) if (!best || c.n > best.n || (c.n === best.n && c.first < best.first)) best = c;
    const winner = (rows[(best as { first: number }).first] as ChartRow).features;
    for (const i of idx) {
      const r = rows[i] as ChartRow;
      if (r.features.join(',') !== winner.join(',')) {
        rows[i] = { ...r, features: winner };
        rowsWithFeaturesReplaced += 1;
      }
    }
  }

  return {
    ok: true,
    rows,
    report: {
      files: tables.length,
      rowsRead,
      rowsKept: rows.length,
      globalChartRows,
      exactDuplicateRows,
      songsWithConflictingFeatures,
      rowsWithFeaturesReplaced,
      rules: VALIDATION_RULES,
    },
  };
}

function rangeNote(field: string): string {
  const spec = FEATURES_BY_NAME.get(field);
  return spec ? `valid ${spec.min} to ${spec.max}` : '';
}
