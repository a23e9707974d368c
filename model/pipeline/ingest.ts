/**
 * Step 1, ingest: reads chart files (CSV in the Kaggle chart schema, or
 * Parquet with the same columns) into plain records of cells, with each
 * file's sha256 and row count. It judges only whether a file is readable;
 * the values are checked by the validate step.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import Papa from 'papaparse';
import type { Problem } from './problems.ts';

export type Cell = string | number | boolean | null;

export interface SourceTable {
  /** The file as the user named it, for messages. */
  readonly file: string;
  readonly name: string;
  readonly format: 'csv' | 'parquet';
  readonly sha256: string;
  readonly columns: readonly string[];
  readonly rows: readonly Record<string, Cell>[];
  /** Position of rows[i] in the file for messages (CSV line, or Parquet record number). */
  readonly firstRowNumber: number;
}

export type IngestResult = { ok: true; tables: SourceTable[] } | { ok: false; problems: Problem[] };

const PARQUET_MAGIC = 'PAR1';

function looksBinary(bytes: Uint8Array): boolean {
  const head = bytes.subarray(0, 65_536);
  if (head.includes(0)) return true;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return false;
  } catch {
    return true;
  }
}

function normaliseCell(v: unknown): Cell {
  if (v === undefined || v === null) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  return String(v);
}

async function readParquet(file: string, bytes: Buffer, sha256: string): Promise<IngestResult> {
  try {
    const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const records = await parquetReadObjects({ file: ab });
    const columns = records.length > 0 ? Object.keys(records[0] as object) : [];
    const rows = records.map((r) =>
      Object.fromEntries(Object.entries(r as Record<string, unknown>).map(([k, v]) => [k, normaliseCell(v)])),
    );
    if (rows.length === 0) return { ok: false, problems: [{ file, code: 'file-empty', detail: 'no records' }] };
    return {
      ok: true,
      tables: [{ file, name: basename(file), format: 'parquet', sha256, columns, rows, firstRowNumber: 1 }],
    };
  } catch (cause) {
    return {
      ok: false,
      problems: [{ file, code: 'file-unsupported-format', detail: `unreadable Parquet: ${String(cause)}` }],
    };
  }
}

function readCsv(file: string, text: string, sha256: string): IngestResult {
  const parsed = Papa.parse<Record<string, string>>(text.replace(/^\uFEFF/, ''), {
    header: true,
    skipEmptyLines: 'greedy',
    transformHeader: (h) => h.trim(),
  });
  const columns = parsed.meta.fields ?? [];
  const fatal = parsed.errors.filter((e) => e.type !== 'Delimiter');
  if (fatal.length > 0) {
    return {
      ok: false,
      problems: fatal.slice(0, 20).map((e) => ({
        file,
        ...(e.row !== undefined ? { row: e.row + 2 } : {}),
        code: 'csv-malformed' as const,
        detail: e.message,
      })),
    };
  }
  if (parsed.data.length === 0) {
    return { ok: false, problems: [{ file, code: 'file-empty', detail: 'a header but no data rows' }] };
  }
  return {
    ok: true,
    tables: [{ file, name: basename(file), format: 'csv', sha256, columns, rows: parsed.data, firstRowNumber: 2 }],
  };
}

/** Reads one file; never throws for a bad file, only for bugs. */
export async function ingestFile(file: string): Promise<IngestResult> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (cause) {
    return { ok: false, problems: [{ file, code: 'file-not-found', detail: (cause as Error).message }] };
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (bytes.length === 0) return { ok: false, problems: [{ file, code: 'file-empty', detail: '0 bytes' }] };
  if (bytes.subarray(0, 4).toString('latin1') === PARQUET_MAGIC) return readParquet(file, bytes, sha256);
  if (looksBinary(bytes)) return { ok: false, problems: [{ file, code: 'file-binary' }] };
  const text = bytes.toString('utf8');
  if (text.trim() === '') return { ok: false, problems: [{ file, code: 'file-empty', detail: 'only whitespace' }] };
  return readCsv(file, text, sha256);
}

/** Reads every file; reports the problems of all bad files at once. */
export async function ingestFiles(files: readonly string[]): Promise<IngestResult> {
  const tables: SourceTable[] = [];
  const problems: Problem[] = [];
  for (const f of files) {
    const r = await ingestFile(f);
    if (r.ok) tables.push(...r.tables);
    else problems.push(...r.problems);
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, tables };
}

/** sha256 of a file's bytes (cache keys hash inputs before reading them). */
export async function fileSha256(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}
