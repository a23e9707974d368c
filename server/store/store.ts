/**
 * Opens the one query layer (Kysely) over SQLite (default, embedded, WAL) or
 * PostgreSQL (several instances sharing a store), chosen by DATABASE_URL.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { type ChartWriteThread, startChartWriteThread } from './chart-write-thread.ts';
import { migrateToLatest } from './migrations.ts';
import type { Database } from './schema.ts';
import { startWalCheckpointer, type WalCheckpointer } from './wal-checkpointer.ts';
import { type WalSync, walSync } from './wal-sync.ts';

export type Dialect = 'sqlite' | 'postgres';

/**
 * How SQLite makes an acknowledged write durable. GROUP (default): commits are not synced on the event loop; an
 * answer waits for a shared fsync of the write-ahead log off it (wal-sync.ts). FULL: every commit syncs the log
 * on the event loop. NORMAL: nothing waits for the disk, and a power cut may lose the last acknowledged writes.
 */
export type SqliteSynchronous = 'GROUP' | 'FULL' | 'NORMAL';

export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  /** Where it lives, for the start banner (no credentials). */
  readonly location: string;
  /**
   * The raw better-sqlite3 handle (SQLite only), for the ingest hot path's
   * cached prepared statements. Use it only inside a Kysely transaction, which
   * holds the single connection's mutex.
   */
  readonly sqlite?: SQLite.Database;
  /** SQLite in a file: the thread that writes chart-upload rows on its own connection (chart-writer.ts). */
  readonly chartThread?: ChartWriteThread;
  /**
   * Resolves once every commit made before the call is on disk. With SQLite's group commit (the default) that
   * waits for an fsync of the write-ahead log; elsewhere the commit itself was synced and it resolves at once.
   * The HTTP layer awaits it before answering any request that may have written (app.ts).
   */
  synced(): Promise<void>;
  close(): Promise<void>;
}

/** `undefined` / `sqlite:<path>` / `sqlite::memory:` / `postgres://…`. */
export async function openStore(
  databaseUrl: string | undefined,
  dataDir: string,
  opts: { sqliteSynchronous?: SqliteSynchronous; sqliteCheckpoint?: 'thread' | 'commit' } = {},
): Promise<Store> {
  const url = databaseUrl ?? `sqlite:${join(dataDir, 'jukebox.sqlite')}`;
  let db: Kysely<Database>;
  let dialect: Dialect;
  let location: string;
  let raw: SQLite.Database | undefined;
  let checkpointer: WalCheckpointer | undefined;
  let wal: WalSync | undefined;
  let filePath: string | undefined;
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    dialect = 'postgres';
    // Keep doubles and counts as JS numbers (pg returns int8/numeric as strings otherwise).
    pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
    pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));
    const pool = new pg.Pool({ connectionString: url, max: 8 });
    // An idle client dropped by the server (restart, failover, admin kill) emits 'error' on the
    // pool; unhandled, that kills the process. The pool replaces the client on next use.
    pool.on('error', (e) => console.error(`postgres: idle connection lost: ${e.message}`));
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    location = url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:****@');
  } else if (url.startsWith('sqlite:')) {
    dialect = 'sqlite';
    const path = url.slice('sqlite:'.length);
    if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
    const sqlite = new SQLite(path);
    sqlite.pragma('journal_mode = WAL');
    // An acknowledged batch must survive a power cut, not only a crash of the process. GROUP commits unsynced and
    // syncs the log before any answer, off the event loop; FULL syncs it inside every commit; NORMAL never waits
    // (the last commits may be lost on power loss). The ingest benchmark measures the three side by side.
    const durability = opts.sqliteSynchronous ?? 'GROUP';
    sqlite.pragma(`synchronous = ${durability === 'FULL' ? 'FULL' : 'NORMAL'}`);
    if (durability === 'GROUP' && path !== ':memory:') wal = walSync(`${resolve(path)}-wal`);
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    if (path !== ':memory:' && (opts.sqliteCheckpoint ?? 'thread') === 'thread') {
      // Checkpoints run on their own thread (wal-checkpointer.ts), not inside a request's commit; a log that
      // grew while the thread was busy is cut back to 64 MiB once checkpointed.
      sqlite.pragma('wal_autocheckpoint = 0');
      sqlite.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
      checkpointer = startWalCheckpointer(path);
    }
    if (path !== ':memory:') filePath = path;
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    raw = sqlite;
    location = path;
  } else {
    throw new Error(`DATABASE_URL must start with sqlite: or postgres:// (got ${url.split(':')[0]}:…)`);
  }
  await migrateToLatest(db as unknown as Kysely<unknown>, dialect);
  // After the migrations: the thread prepares its statements on the tables they create.
  const chartThread = filePath ? startChartWriteThread(filePath) : undefined;
  return {
    db,
    dialect,
    location,
    ...(raw ? { sqlite: raw } : {}),
    ...(chartThread ? { chartThread } : {}),
    synced: () => wal?.synced() ?? Promise.resolve(),
    close: async () => {
      await chartThread?.stop();
      await wal?.close();
      await checkpointer?.stop();
      await db.destroy();
    },
  };
}
