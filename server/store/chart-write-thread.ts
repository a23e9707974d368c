/**
 * Writes chart-upload rows from a worker thread with its own SQLite connection, so the inserts (~2 ms of a step,
 * 80,000 rows for a 20,000-song chart) run on another core while the event loop keeps serving device batches.
 * The caller holds the main connection's mutex while a step runs (chart-writer.ts): nothing else writes to the
 * store meanwhile, and no transaction on the main connection can see the store change under it.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { stopThread } from '../threads/stop-thread.ts';

export interface ChartWriteThread {
  /** One transaction: the songs a chart lists, or who charted where (`[songId, country]`). */
  write(
    step: { kind: 'songs'; date: string; rows: string[] } | { kind: 'entries'; date: string; rows: [string, string][] },
  ): Promise<void>;
  /** Closes the thread's connection; resolves when it is closed. */
  stop(): Promise<void>;
}

/** The worker's code: plain CommonJS, so it runs the same under tsx, node and any bundler (as wal-checkpointer.ts). */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 5000');
db.pragma('foreign_keys = ON');
// Each step's commit is not synced; the upload's last commit, on the main connection under the store's own
// durability, syncs the write-ahead log (which holds these frames too) before the upload is answered.
db.pragma('synchronous = NORMAL');
const song = db.prepare('INSERT INTO chart_songs (date, song_id) VALUES (?, ?) ON CONFLICT DO NOTHING');
const entry = db.prepare('INSERT INTO chart_entries (date, song_id, country) VALUES (?, ?, ?) ON CONFLICT DO NOTHING');
const songs = db.transaction((date, rows) => { for (const id of rows) song.run(date, id); });
const entries = db.transaction((date, rows) => { for (const r of rows) entry.run(date, r[0], r[1]); });
parentPort.on('message', (m) => {
  if (m === 'stop') {
    db.close();
    parentPort.postMessage({ closed: true });
    return;
  }
  try {
    (m.kind === 'songs' ? songs : entries)(m.date, m.rows);
    parentPort.postMessage({ id: m.id });
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: String(e && e.message ? e.message : e) });
  }
});
`;

export function startChartWriteThread(path: string): ChartWriteThread {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER, { eval: true, workerData: { driver, path } });
  worker.unref();
  const pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  let next = 0;
  let dead: Error | undefined;
  const fail = (e: Error) => {
    dead ??= e;
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };
  worker.on('message', (m: { id?: number; error?: string; closed?: boolean }) => {
    if (m.closed) return;
    const p = pending.get(m.id as number);
    pending.delete(m.id as number);
    if (m.error) p?.reject(new Error(`chart write failed: ${m.error}`));
    else p?.resolve();
  });
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`chart write thread exited (${code})`)));
  return {
    write(step) {
      if (dead) return Promise.reject(dead);
      const id = next++;
      return new Promise<void>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        // Referenced while a step is pending, so a short-lived process does not exit before its upload is written.
        worker.ref();
        worker.postMessage({ id, ...step });
      }).finally(() => {
        if (pending.size === 0) worker.unref();
      });
    },
    // A thread that already died has no connection left to close.
    stop: () => (dead ? worker.terminate().then(() => {}) : stopThread(worker)),
  };
}
