import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from './store.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Writes ~`pages` pages of 4 KiB through the store's own connection, one transaction per 50 rows. */
async function write(store: Store, pages: number): Promise<void> {
  await sql`CREATE TABLE IF NOT EXISTS filler (id INTEGER PRIMARY KEY, body BLOB)`.execute(store.db);
  for (let i = 0; i < pages; i += 50) {
    await store.db.transaction().execute(async (tx) => {
      for (let k = 0; k < 50; k++) await sql`INSERT INTO filler (body) VALUES (randomblob(3900))`.execute(tx);
    });
  }
}

/** A store on a fresh SQLite file; closed and removed after the test. */
async function fileStore(opts: { sqliteCheckpoint?: 'thread' | 'commit' } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'jukebox-ckpt-'));
  dirs.push(dir);
  const path = join(dir, 'db.sqlite');
  return { dir, path, store: await openStore(`sqlite:${path}`, dir, opts) };
}

const walPages = (path: string) => Math.max(0, statSync(`${path}-wal`).size - 32) / (4096 + 24);

describe('SQLite checkpoints', () => {
  it('are taken by the worker thread: the database file grows and the log restarts, no commit checkpoints', async () => {
    const { path, store } = await fileStore({ sqliteCheckpoint: 'thread' });
    try {
      expect(store.sqlite?.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
      const before = statSync(path).size;
      await write(store, 1500);
      // The thread ticks every 200 ms: within a few ticks the pages are in the database file.
      const deadline = Date.now() + 5000;
      while (statSync(path).size < before + 1000 * 4096 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect(statSync(path).size).toBeGreaterThan(before + 1000 * 4096);
      // Once everything is copied, the next transaction writes the log from the top again.
      const grown = walPages(path);
      await new Promise((r) => setTimeout(r, 500));
      await write(store, 50);
      expect(walPages(path)).toBeLessThanOrEqual(grown);
    } finally {
      await store.close();
    }
  });

  it('stay in the commit with SQLITE_CHECKPOINT=commit (SQLite auto-checkpoint)', async () => {
    const { store } = await fileStore({ sqliteCheckpoint: 'commit' });
    try {
      expect(store.sqlite?.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    } finally {
      await store.close();
    }
  });

  it('leave nothing behind on close: the data is all in the database file', async () => {
    const { dir, path, store } = await fileStore();
    await write(store, 200);
    await store.close();
    const again = await openStore(`sqlite:${path}`, dir);
    try {
      const n = await sql<{ n: number }>`SELECT count(*) AS n FROM filler`.execute(again.db);
      expect(n.rows[0]?.n).toBe(200);
    } finally {
      await again.close();
    }
  });
});
