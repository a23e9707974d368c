/**
 * The SQL of a chart upload's rows (`chart_songs`, `chart_entries`), one short transaction per call. SQLite in a
 * file writes them on its chart write thread (`chart-write-thread.ts`, its own connection) while this process holds
 * the main connection: a 20,000-song chart is 80,000 inserts, and run on the event loop they pushed the p99 of
 * concurrent device batches from ~80 to 110–160 ms (the ingest benchmark's upload row); on the thread the row reads
 * the same p99 as without an upload. In-memory SQLite (tests) writes in process with cached prepared statements and
 * an unsynced commit; PostgreSQL does not block the event loop and takes multi-row inserts. Either way the caller
 * must end the upload with a commit under the store's own durability setting, which syncs these steps too.
 */
import type SQLite from 'better-sqlite3';
import type { Store } from './store.ts';

export interface ChartEntry {
  songId: string;
  country: string;
}

export interface ChartWriter {
  /** Adds the songs a chart lists (already there: kept). */
  insertSongs(date: string, songIds: readonly string[]): Promise<void>;
  /** Adds who charted where (already there: kept). */
  insertEntries(date: string, entries: readonly ChartEntry[]): Promise<void>;
}

const statements = new WeakMap<SQLite.Database, { song: SQLite.Statement; entry: SQLite.Statement }>();

export function chartWriter(store: Store): ChartWriter {
  const raw = store.sqlite;
  const db = store.db;
  if (raw) {
    let st = statements.get(raw);
    if (!st) {
      st = {
        song: raw.prepare('INSERT INTO chart_songs (date, song_id) VALUES (?, ?) ON CONFLICT DO NOTHING'),
        entry: raw.prepare(
          'INSERT INTO chart_entries (date, song_id, country) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
        ),
      };
      statements.set(raw, st);
    }
    const s = st;
    const thread = store.chartThread;
    // One step, synchronously, on the connection Kysely hands out (its mutex: no transaction is open on it), so
    // nothing else can run on the connection between the pragma and its restore. A step's commit is not synced
    // (synchronous=NORMAL): with FULL, each of a large chart's ~340 steps waited on the disk on the event loop, the
    // larger part of the step. The upload's last statement commits under the store's own setting, and syncing the
    // write-ahead log then (in that commit with FULL, before the answer with GROUP) makes every earlier step durable
    // before the upload is answered.
    const step = (write: () => void) =>
      db.connection().execute(async () => {
        const level = raw.pragma('synchronous', { simple: true }) as number;
        raw.pragma('synchronous = NORMAL');
        try {
          raw.transaction(write)();
        } finally {
          raw.pragma(`synchronous = ${level}`);
        }
      });
    if (thread) {
      // On the write thread, holding this connection's mutex while it writes: the event loop stays free for
      // device batches (read, parsed on their thread, queued for the mutex) instead of running the inserts.
      const onThread = (step: Parameters<typeof thread.write>[0]) =>
        db.connection().execute(async () => thread.write(step));
      return {
        insertSongs: (date, songIds) => onThread({ kind: 'songs', date, rows: [...songIds] }),
        insertEntries: (date, entries) =>
          onThread({ kind: 'entries', date, rows: entries.map((e) => [e.songId, e.country] as [string, string]) }),
      };
    }
    return {
      insertSongs: (date, songIds) =>
        step(() => {
          for (const id of songIds) s.song.run(date, id);
        }),
      insertEntries: (date, entries) =>
        step(() => {
          for (const e of entries) s.entry.run(date, e.songId, e.country);
        }),
    };
  }
  return {
    async insertSongs(date, songIds) {
      if (songIds.length === 0) return;
      await db
        .insertInto('chart_songs')
        .values(songIds.map((song_id) => ({ date, song_id })))
        .onConflict((oc) => oc.columns(['date', 'song_id']).doNothing())
        .execute();
    },
    async insertEntries(date, entries) {
      if (entries.length === 0) return;
      await db
        .insertInto('chart_entries')
        .values(entries.map((e) => ({ date, song_id: e.songId, country: e.country })))
        .onConflict((oc) => oc.columns(['date', 'song_id', 'country']).doNothing())
        .execute();
    },
  };
}
