/**
 * The one reader of song CSVs with the catalogue's columns (spotify_id | id |
 * song_id, name, artists + the 13 features), on papaparse with the contract's
 * locale-proof feature parsing (`parseFeatures`). Used by the server's
 * catalogue (start-up file and admin upload), the app's batch upload, the dev
 * and e2e catalogue and the test fixtures. Bad rows are returned with their
 * per-field errors, never dropped silently.
 */
import Papa from 'papaparse';
import type { CatalogueSong } from '../contract/api.ts';
import { isSafeText } from '../contract/bounds.ts';
import { fail, ok, type Result } from '../contract/errors.ts';
import {
  type DurationReading,
  FEATURE_NAMES,
  type FieldError,
  type ParseOptions,
  parseFeatures,
} from '../contract/features.ts';

export interface BadRow {
  /** 1-based line number in the file (the header is line 1). */
  readonly line: number;
  readonly label: string;
  readonly errors: readonly FieldError[];
  /** The row's id as given, when ids are required and it is not a usable song id. */
  readonly badId?: string;
}

export interface CsvSongs {
  readonly songs: CatalogueSong[];
  readonly bad: BadRow[];
  readonly total: number;
  /** Rows whose duration was read as minutes, seconds or m:ss rather than milliseconds (flexible durations only). */
  readonly durationReadings: Partial<Record<DurationReading, number>>;
}

export interface SongsCsvOptions extends ParseOptions {
  /**
   * 'fallback' (default: a marketer's file): a row without a usable id is named `row-<line>`.
   * 'required' (the server's catalogue, joined to charts by id): the id column must exist and a row without a
   * usable id is a bad row.
   */
  readonly ids?: 'fallback' | 'required';
}

const ID_COLUMNS = ['spotify_id', 'id', 'song_id'];

/** A usable song id: what a prediction log's or outcome's `songId` accepts (1–64 characters, safe text). */
export function isSongId(id: string): boolean {
  return id.length >= 1 && id.length <= 64 && isSafeText(id);
}

/**
 * Parses CSV text; fails only when the file as a whole is unusable (empty, malformed, missing columns, no
 * usable row). A marketer's upload uses `{ durations: 'flexible' }` (the form's parser: decimal comma, Unicode
 * minus, durations as m:ss, minutes, seconds or ms, each reading counted); the catalogue itself is in ms.
 *
 * @example
 * const r = parseSongsCsv(text, { ids: 'required' });
 * if (r.ok) store(r.value.songs); // r.value.bad: the rows left out, with why
 */
export function parseSongsCsv(text: string, options: SongsCsvOptions = {}): Result<CsvSongs> {
  if (text.trim() === '') return fail('file-empty');
  const parsed = Papa.parse<Record<string, string>>(text, { header: true, skipEmptyLines: 'greedy' });
  const fields = parsed.meta.fields ?? [];
  const idColumn = ID_COLUMNS.find((c) => fields.includes(c));
  const required = options.ids === 'required';
  const missing = [
    ...(required && !idColumn ? [ID_COLUMNS[0] as string] : []),
    ...FEATURE_NAMES.filter((f) => !fields.includes(f)),
  ];
  if (missing.length > 0) return fail('csv-missing-column', { missing });
  if (parsed.data.length === 0) return fail('no-usable-rows');
  // Papaparse reports field-count mismatches per row; those rows are still validated field by field below.
  const fatal = parsed.errors.find((e) => e.type === 'Quotes');
  if (fatal && parsed.data.length <= 1) return fail('csv-malformed', { row: fatal.row, message: fatal.message });
  const songs: CatalogueSong[] = [];
  const bad: BadRow[] = [];
  const seen = new Set<string>();
  const durationReadings: Partial<Record<DurationReading, number>> = {};
  parsed.data.forEach((row, i) => {
    const line = i + 2;
    const name = (row.name ?? '').trim();
    const artists = (row.artists ?? '').trim();
    const given = idColumn ? (row[idColumn] ?? '').trim() : '';
    const idOk = isSongId(given);
    const id = idOk ? given : `row-${line}`;
    const r = parseFeatures(row, options);
    if (!r.ok || (required && !idOk)) {
      bad.push({
        line,
        label: name || given || id,
        errors: r.ok ? [] : r.errors,
        ...(required && !idOk ? { badId: given } : {}),
      });
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
  if (songs.length === 0) return fail('no-usable-rows', { bad: bad.slice(0, 20) });
  return ok({ songs, bad, total: parsed.data.length, durationReadings });
}
