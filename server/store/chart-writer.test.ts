import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { chartWriter } from './chart-writer.ts';
import { openStore, type Store } from './store.ts';

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A file store writes chart rows on its write thread; an in-memory one (no file to share) in process. */
const kinds = [
  { name: 'a file (write thread)', file: true },
  { name: 'memory (in process)', file: false },
];

describe.each(kinds)('chartWriter on SQLite in $name', ({ file }) => {
  async function sqliteStore(): Promise<Store> {
    const dir = mkdtempSync(join(tmpdir(), 'jukebox-chart-'));
    dirs.push(dir);
    // FULL, so the restore to the store's own setting (2) is told apart from the steps' NORMAL (1).
    const url = file ? `sqlite:${join(dir, 'db.sqlite')}` : 'sqlite::memory:';
    const store = await openStore(url, dir, { sqliteSynchronous: 'FULL' });
    stores.push(store);
    expect(store.chartThread !== undefined).toBe(file);
    return store;
  }

  it('writes songs and entries idempotently, and leaves the connection on its own durability setting', async () => {
    const store = await sqliteStore();
    const raw = store.sqlite;
    if (!raw) throw new Error('expected SQLite');
    expect(raw.pragma('synchronous', { simple: true })).toBe(2); // FULL
    const w = chartWriter(store);
    await w.insertSongs('2026-02-01', ['a', 'b', 'a']);
    await w.insertEntries('2026-02-01', [
      { songId: 'a', country: 'DE' },
      { songId: 'b', country: 'FR' },
    ]);
    await w.insertEntries('2026-02-01', [{ songId: 'a', country: 'DE' }]);
    const songs = await sql<{ n: number }>`SELECT count(*) AS n FROM chart_songs`.execute(store.db);
    const entries = await sql<{ n: number }>`SELECT count(*) AS n FROM chart_entries`.execute(store.db);
    expect([songs.rows[0]?.n, entries.rows[0]?.n]).toEqual([2, 2]);
    expect(raw.pragma('synchronous', { simple: true })).toBe(2);
  });

  it('rolls a failed step back whole and still restores the durability setting', async () => {
    const store = await sqliteStore();
    const raw = store.sqlite;
    if (!raw) throw new Error('expected SQLite');
    const w = chartWriter(store);
    // A null song id breaks the primary key's NOT NULL after the first row went in.
    await expect(
      w.insertEntries('2026-02-02', [
        { songId: 'a', country: 'DE' },
        { songId: null as unknown as string, country: 'FR' },
      ]),
    ).rejects.toThrow();
    const entries = await sql<{ n: number }>`SELECT count(*) AS n FROM chart_entries`.execute(store.db);
    expect(entries.rows[0]?.n).toBe(0);
    expect(raw.pragma('synchronous', { simple: true })).toBe(2);
    // The connection is usable again: a Kysely transaction starts and commits.
    await store.db.transaction().execute(async (tx) => {
      await sql`INSERT INTO chart_songs (date, song_id) VALUES ('2026-02-02', 'z')`.execute(tx);
    });
  });
});

describe('the chart write thread', () => {
  it('writes while the event loop stays free, holding the main connection until its step is done', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jukebox-chart-'));
    dirs.push(dir);
    const store = await openStore(`sqlite:${join(dir, 'db.sqlite')}`, dir);
    stores.push(store);
    const w = chartWriter(store);
    const entries = Array.from({ length: 30_000 }, (_, i) => ({ songId: `s${i}`, country: 'DE' }));
    // Ticks of the event loop counted while one large step is written: in process there would be none.
    let ticks = 0;
    let writing = true;
    const tick = () => {
      ticks++;
      if (writing) setImmediate(tick);
    };
    setImmediate(tick);
    const step = w.insertEntries('2026-02-03', entries).finally(() => {
      writing = false;
    });
    // A write on the main connection waits for the step: it sees all of its rows.
    const after = store.db
      .selectFrom('chart_entries')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    await step;
    expect(Number((await after).n)).toBe(30_000);
    expect(ticks).toBeGreaterThan(3);
  });
});
