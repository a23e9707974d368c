import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { syntheticCharts, toCsv, toParquet } from './fixtures.ts';
import { ingestFile, ingestFiles } from './ingest.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ingest-'));
});

/** The first table of a file that must read cleanly. */
async function firstTable(file: string) {
  const r = await ingestFile(file);
  expect(r.ok).toBe(true);
  if (!r.ok) throw new Error('unreachable: the expectation above failed');
  return r.tables[0]!;
}

describe('ingest', () => {
  it('reads a CSV in the chart schema with its sha256 and row count', async () => {
    const rows = syntheticCharts({ songs: 20, seed: 1 });
    const f = join(dir, 'a.csv');
    await writeFile(f, toCsv(rows));
    const t = await firstTable(f);
    expect(t.format).toBe('csv');
    expect(t.rows.length).toBe(rows.length);
    expect(t.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(t.columns).toContain('danceability');
    expect(t.rows[0]?.is_explicit).toMatch(/^(TRUE|FALSE)$/);
    expect(t.firstRowNumber).toBe(2);
  });

  it('reads Parquet with the same columns into the same records', async () => {
    const rows = syntheticCharts({ songs: 10, seed: 2 });
    const f = join(dir, 'a.parquet');
    await writeFile(f, new Uint8Array(toParquet(rows)));
    const t = await firstTable(f);
    expect(t.format).toBe('parquet');
    expect(t.rows.length).toBe(rows.length);
    expect(t.rows[0]?.spotify_id).toBe(rows[0]?.spotify_id);
    expect(t.rows[0]?.danceability).toBeCloseTo(rows[0]?.danceability as number, 6);
    expect(typeof t.rows[0]?.is_explicit).toBe('boolean');
  });

  it('names an empty file, a header-only file, a binary file and a missing file', async () => {
    await writeFile(join(dir, 'empty.csv'), '');
    await writeFile(join(dir, 'header.csv'), 'spotify_id,country\n');
    await writeFile(join(dir, 'bin.csv'), new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 13, 0xff, 0xfe]));
    const codes = async (name: string) => {
      const r = await ingestFile(join(dir, name));
      return r.ok ? 'ok' : r.problems.map((p) => p.code).join(',');
    };
    expect(await codes('empty.csv')).toBe('file-empty');
    expect(await codes('header.csv')).toBe('file-empty');
    expect(await codes('bin.csv')).toBe('file-binary');
    expect(await codes('nope.csv')).toBe('file-not-found');
  });

  it('combines several files and reports every bad one', async () => {
    const good = join(dir, 'g.csv');
    await writeFile(good, toCsv(syntheticCharts({ songs: 5, seed: 3 })));
    const both = await ingestFiles([good, join(dir, 'a.parquet')]);
    expect(both.ok && both.tables.length).toBe(2);
    const bad = await ingestFiles([good, join(dir, 'empty.csv'), join(dir, 'bin.csv')]);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.problems.map((p) => p.code)).toEqual(['file-empty', 'file-binary']);
  });
});
