/**
 * Opens the one query layer (Kysely) over SQLite (default, embedded, WAL) or
 * PostgreSQL (several instances sharing a store), chosen by DATABASE_URL.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { migrateToLatest } from './migrations.ts';
import type { Database } from './schema.ts';
import { startWalCheckpointer, type WalCheckpointer } from './wal-checkpointer.ts';

export type Dialect = 'sqlite' | 'postgres';

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
  close(): Promise<void>;
}

/** `undefined` / `sqlite:<path>` / `sqlite::memory:` / `postgres://…`. */
export async function openStore(
  databaseUrl: string | undefined,
  dataDir: string,
  opts: { sqliteSynchronous?: 'FULL' | 'NORMAL'; sqliteCheckpoint?: 'thread' | 'commit' } = {},
): Promise<Store> {
  const url = databaseUrl ?? `sqlite:${join(dataDir, 'jukebox.sqlite')}`;
  let db: Kysely<Database>;
  let dialect: Dialect;
  let location: string;
  let raw: SQLite.Database | undefined;
  let checkpointer: WalCheckpointer | undefined;
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
    // An acknowledged batch must survive a power cut, not only a crash of the process: WAL + FULL syncs the log on
    // every commit. NORMAL (SQLITE_SYNCHRONOUS=NORMAL) may lose the last commits on power loss; the ingest
    // benchmark measures both side by side (server/README.md).
    sqlite.pragma(`synchronous = ${opts.sqliteSynchronous ?? 'FULL'}`);
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    if (path !== ':memory:' && (opts.sqliteCheckpoint ?? 'thread') === 'thread') {
      // Checkpoints run on their own thread (wal-checkpointer.ts), not inside a request's commit; a log that
      // grew while the thread was busy is cut back to 64 MiB once checkpointed.
      sqlite.pragma('wal_autocheckpoint = 0');
      sqlite.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
      checkpointer = startWalCheckpointer(path);
    }
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    raw = sqlite;
    location = path;
  } else {
    throw new Error(`DATABASE_URL must start with sqlite: or postgres:// (got ${url.split(':')[0]}:…)`);
  }
  await migrateToLatest(db as unknown as Kysely<unknown>, dialect);
  return {
    db,
    dialect,
    location,
    ...(raw ? { sqlite: raw } : {}),
    close: async () => {
      await checkpointer?.stop();
      await db.destroy();
    },
  };
}
