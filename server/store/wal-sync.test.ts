import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { walSync } from './wal-sync.ts';

/** An fsync the test finishes by hand, recording the order of events. */
function manualFsync() {
  const events: string[] = [];
  const pending: (() => void)[] = [];
  let n = 0;
  const fsync = () =>
    new Promise<void>((resolve) => {
      const id = ++n;
      events.push(`start ${id}`);
      pending.push(() => {
        events.push(`end ${id}`);
        resolve();
      });
    });
  return { fsync, events, finishNext: () => pending.shift()?.() };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('walSync', () => {
  it('never resolves a caller on an fsync that began before its call; callers meanwhile share the next one', async () => {
    const m = manualFsync();
    const sync = walSync('unused', m.fsync);
    const done: string[] = [];
    void sync.synced().then(() => done.push('a'));
    await tick();
    // b and c commit while fsync 1 runs: fsync 1 may have missed their commits.
    void sync.synced().then(() => done.push('b'));
    void sync.synced().then(() => done.push('c'));
    m.finishNext();
    await tick();
    expect(done).toEqual(['a']);
    expect(m.events).toEqual(['start 1', 'end 1', 'start 2']);
    m.finishNext();
    await tick();
    expect(done).toEqual(['a', 'b', 'c']);
    expect(m.events).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
  });

  it('rejects the callers of a failed fsync, and the next caller gets a fresh one', async () => {
    let fail = true;
    let calls = 0;
    const sync = walSync('unused', async () => {
      calls++;
      if (fail) throw new Error('EIO');
    });
    await expect(sync.synced()).rejects.toThrow('EIO');
    fail = false;
    await expect(sync.synced()).resolves.toBeUndefined();
    expect(calls).toBe(2);
  });

  it('syncs a real write-ahead log, and resolves when none exists yet', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wal-sync-'));
    try {
      const path = join(dir, 'db.sqlite');
      const early = walSync(`${path}-wal`);
      await expect(early.synced()).resolves.toBeUndefined();
      const db = new SQLite(path);
      db.pragma('journal_mode = WAL');
      db.exec('CREATE TABLE t (x INTEGER)');
      db.prepare('INSERT INTO t VALUES (1)').run();
      const sync = walSync(`${path}-wal`);
      await expect(sync.synced()).resolves.toBeUndefined();
      await expect(early.synced()).resolves.toBeUndefined();
      await sync.close();
      await early.close();
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
