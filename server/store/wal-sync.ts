/**
 * Group commit for SQLite: the connection commits without syncing (synchronous=NORMAL), and every acknowledgement
 * waits for an fsync of the write-ahead log that began after its commit. The fsync runs on libuv's thread pool,
 * so the event loop keeps parsing the next request meanwhile (with synchronous=FULL each commit's fsync, ~3–5 ms
 * on this VM's disk, blocked every request in flight), and requests that commit while one fsync runs share the
 * next one.
 *
 * Why this is as durable as FULL for what was acknowledged: WAL + NORMAL keeps the database consistent through a
 * power cut and can only lose the last commits that were not yet synced; no request is answered before the log
 * that holds its commit is synced. (Writes nobody is answered for, such as alert evaluations, are synced by the
 * next checkpoint, within its interval.)
 */
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface WalSync {
  /** Resolves once everything committed before the call is on disk; rejects when the disk refuses. */
  synced(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Syncs `walPath` (the database path + `-wal`). `syncFile` is the fsync itself (injected by tests); by default
 * a handle on the log kept open, and on its first use the folder too, so the log's own name survives a power cut.
 */
export function walSync(walPath: string, syncFile?: () => Promise<void>): WalSync {
  const file = syncFile ? null : fileSyncer(walPath);
  const fsync = syncFile ?? (file as FileSyncer).sync;
  let running: Promise<void> | null = null;
  let queued: Promise<void> | null = null;

  const start = (): Promise<void> => {
    const p: Promise<void> = fsync().finally(() => {
      if (running === p) running = null;
    });
    running = p;
    return p;
  };

  return {
    synced() {
      if (running === null) return start();
      // The fsync in progress may have begun before this caller's commit: the next one covers it, and everyone
      // who arrives meanwhile.
      queued ??= running.then(
        () => {
          queued = null;
          return start();
        },
        () => {
          queued = null;
          return start();
        },
      );
      return queued;
    },
    async close() {
      await Promise.allSettled([running, queued]);
      await file?.close();
    },
  };
}

interface FileSyncer {
  sync(): Promise<void>;
  close(): Promise<void>;
}

function fileSyncer(walPath: string): FileSyncer {
  let handle: Promise<import('node:fs/promises').FileHandle | null> | null = null;
  const opened = () => {
    handle ??= (async () => {
      try {
        const h = await open(walPath, 'r');
        const dir = await open(dirname(walPath), 'r');
        try {
          await dir.sync();
        } finally {
          await dir.close();
        }
        return h;
      } catch (e) {
        handle = null; // no log yet (nothing written in WAL mode): nothing to sync; look again next time
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw e;
      }
    })();
    return handle;
  };
  return {
    async sync() {
      const h = await opened();
      await h?.sync();
    },
    async close() {
      const h = await handle?.catch(() => null);
      await h?.close();
    },
  };
}
