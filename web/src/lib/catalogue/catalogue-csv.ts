/**
 * Reads songs from CSV text with the catalogue's columns (spotify_id, name,
 * artists + the 13 features). Used by batch upload in the app, by the dev
 * server and by the e2e test server to build the catalogue. Bad rows are
 * returned with their per-field errors, never dropped silently.
 */
import Papa from 'papaparse';
import type { CatalogueSong } from '../../../../model/contract/api.ts';
import { fail, ok, type Result } from '../../../../model/contract/errors.ts';
import {
  type DurationReading,
  FEATURE_NAMES,
  type FieldError,
  type ParseOptions,
  parseFeatures,
} from '../../../../model/contract/features.ts';

export interface BadRow {
  /** 1-based line number in the file (the header is line 1). */
  readonly line: number;
  readonly label: string;
  readonly errors: readonly FieldError[];
}

export interface CsvSongs {
  readonly songs: CatalogueSong[];
  readonly bad: BadRow[];
  readonly total: number;
  /** Rows whose duration was read as minutes, seconds or m:ss rather than milliseconds (flexible durations only). */
  readonly durationReadings: Partial<Record<DurationReading, number>>;
}

const ID_COLUMNS = ['spotify_id', 'id', 'song_id'];

/**
 * Parses CSV text; fails only when the file as a whole is unusable (empty, malformed, missing columns).
 * A marketer's upload uses `{ durations: 'flexible' }` (the form's parser: decimal comma, Unicode minus,
 * durations as m:ss, minutes, seconds or ms, each reading counted); the catalogue itself is in ms.
 */
export function parseSongsCsv(text: string, options: ParseOptions = {}): Result<CsvSongs> {
  if (text.trim() === '') return fail('file-empty');
  const parsed = Papa.parse<Record<string, string>>(text, { header: true, skipEmptyLines: 'greedy' });
  const fields = parsed.meta.fields ?? [];
  const missing = FEATURE_NAMES.filter((f) => !fields.includes(f));
  if (missing.length > 0) return fail('csv-missing-column', { missing });
  if (parsed.data.length === 0) return fail('no-usable-rows');
  // Papaparse reports field-count mismatches per row; those rows are still validated field by field below.
  const fatal = parsed.errors.find((e) => e.type === 'Quotes');
  if (fatal && parsed.data.length <= 1) return fail('csv-malformed', { row: fatal.row, message: fatal.message });
  const idColumn = ID_COLUMNS.find((c) => fields.includes(c));
  const songs: CatalogueSong[] = [];
  const bad: BadRow[] = [];
  const seen = new Set<string>();
  const durationReadings: Partial<Record<DurationReading, number>> = {};
  parsed.data.forEach((row, i) => {
    const line = i + 2;
    const name = (row.name ?? '').trim();
    const artists = (row.artists ?? '').trim();
    let id = idColumn ? (row[idColumn] ?? '').trim() : '';
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) id = `row-${line}`;
    const r = parseFeatures(row, options);
    if (!r.ok) {
      bad.push({ line, label: name || id, errors: r.errors });
      return;
    }
    // The catalogue repeats a few songs; the first occurrence wins so ids stay unique.
    if (seen.has(id)) return;
    seen.add(id);
    if (r.durationReading && r.durationReading !== 'milliseconds') {
      durationReadings[r.durationReading] = (durationReadings[r.durationReading] ?? 0) + 1;
    }
    songs.push({ id, name: name || id, artists, features: r.value });
  });
  if (songs.length === 0 && bad.length > 0) return fail('no-usable-rows', { bad: bad.slice(0, 20) });
  return ok({ songs, bad, total: parsed.data.length, durationReadings });
}
