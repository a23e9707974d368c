/**
 * The device database's layout (IndexedDB version 4) and its upgrades from every earlier version.
 *
 * Records the device keeps until the server has them (prediction logs, outcomes) are stored in chunks: a
 * `chunks` record holds up to `CHUNK_SIZE` rows of one kind, and the `ledger` record under the same key
 * says what they are (id range, count, oldest time) and which of them are pending (the outbox) or were
 * refused, and why. A 14,000-log batch is then ~15 records instead of 14,000: IndexedDB's cost is per record
 * whatever its size, which made a one-record-per-log save of a catalogue batch slow (figures:
 * `test/bench/README.md`).
 */
import type { DBSchema, IDBPDatabase, IDBPObjectStore, IDBPTransaction, StoreNames } from 'idb';
import type { Catalogue } from '../../../../model/contract/api.ts';

export const DB_NAME = 'jukebox-edge';
/**
 * 2: outcomes store; logs may be `synced: 2` (rejected). 3: an `outbox` store of pending log ids.
 * 4: logs and outcomes in chunk records with a ledger (the outbox keyed by chunk).
 */
export const DB_VERSION = 4;
/** Rows per chunk: one sync request's worth (the contract's maximum batch), so a batch reads one record. */
export const CHUNK_SIZE = 1_000;

export type RecordKind = 'log' | 'outcome';
/** A chunk's key: its kind, then the smallest id it held when made (ids are UUID v7: keys sort by time). */
export type ChunkKey = [RecordKind, string];

export interface ChunkRecord {
  /** Sorted by id. */
  readonly rows: readonly unknown[];
}

/** Why the server refused an item (its contract code and message), kept to show the marketer. */
export interface StoredRejection {
  readonly code: string;
  readonly message: string;
  readonly at: string;
}

export interface RejectedEntry extends StoredRejection {
  readonly id: string;
}

/** What one chunk holds, without reading its rows. */
export interface LedgerRecord {
  /** Bounds of the ids in the chunk (all rows lie within; kept after pruning). */
  readonly lo: string;
  readonly hi: string;
  readonly size: number;
  /** The smallest `createdAt` in the chunk: pruning by age skips chunks that hold nothing old. */
  readonly oldest: string;
  /** Ids not yet acknowledged by the server (the outbox), sorted. */
  readonly pending: readonly string[];
  /** Ids the server refused, with why: out of the outbox, kept to show and to retry on request. */
  readonly rejected: readonly RejectedEntry[];
}

export interface StoredCatalogue extends Catalogue {
  readonly storedAt: string;
}

export interface JukeboxDb extends DBSchema {
  chunks: { key: ChunkKey; value: ChunkRecord };
  ledger: { key: ChunkKey; value: LedgerRecord };
  catalogue: { key: string; value: StoredCatalogue };
  settings: { key: string; value: unknown };
}

/** One row to be chunked, with its sync state. */
export interface ChunkItem {
  readonly id: string;
  readonly createdAt: string;
  readonly row: unknown;
  readonly pending: boolean;
  readonly rejection?: StoredRejection;
}

/**
 * Cuts rows (sorted by id) into chunks of `CHUNK_SIZE`, each with its ledger. `taken` holds the keys already in
 * use: a key is a chunk's first id, and a pruned chunk may still carry the key of an id now added again.
 */
export function buildChunks(
  kind: RecordKind,
  items: readonly ChunkItem[],
  taken: ReadonlySet<string> = new Set(),
): { key: ChunkKey; chunk: ChunkRecord; ledger: LedgerRecord }[] {
  const out: { key: ChunkKey; chunk: ChunkRecord; ledger: LedgerRecord }[] = [];
  for (let i = 0; i < items.length; i += CHUNK_SIZE) {
    const part = items.slice(i, i + CHUNK_SIZE);
    let name = part[0]!.id;
    for (let n = 1; taken.has(name); n++) name = `${part[0]!.id}#${n}`;
    out.push({ key: [kind, name], chunk: { rows: part.map((p) => p.row) }, ledger: ledgerOf(part) });
  }
  return out;
}

export function ledgerOf(items: readonly ChunkItem[]): LedgerRecord {
  let oldest = items[0]!.createdAt;
  const pending: string[] = [];
  const rejected: RejectedEntry[] = [];
  for (const it of items) {
    if (it.createdAt < oldest) oldest = it.createdAt;
    if (it.rejection) rejected.push({ id: it.id, ...it.rejection });
    else if (it.pending) pending.push(it.id);
  }
  return { lo: items[0]!.id, hi: items[items.length - 1]!.id, size: items.length, oldest, pending, rejected };
}

/** Index ranges of one kind's chunks (a function: IDBKeyRange does not exist where the module is only imported). */
export const kindRange = (kind: RecordKind) => IDBKeyRange.bound([kind, ''], [kind, '\uffff']);

/** Stores of versions 1–3, read once by the upgrade and then deleted. */
interface LegacyLog {
  readonly log: { readonly id: string; readonly createdAt: string };
  readonly synced: number;
  readonly label?: string;
  readonly rejection?: StoredRejection;
}
interface LegacyOutcome {
  readonly outcome: { readonly id: string; readonly recordedAt: string };
  readonly synced: number;
  readonly logId?: string;
  readonly label?: string;
  readonly rejection?: StoredRejection;
}

type AnyStore = IDBPObjectStore<unknown, string[], string, 'versionchange'>;

/**
 * Creates what is missing and moves version 1–3 logs and outcomes into chunks, in the upgrade's own transaction
 * (all or nothing): pending stays pending (v1–2: `synced: 0`; v3: its id in the `outbox`), rejected keeps its
 * reason, synced stays synced.
 */
export function upgradeDeviceDb(
  db: IDBPDatabase<JukeboxDb>,
  oldVersion: number,
  tx: IDBPTransaction<JukeboxDb, StoreNames<JukeboxDb>[], 'versionchange'>,
): void {
  const names = db.objectStoreNames;
  if (!names.contains('catalogue')) db.createObjectStore('catalogue');
  if (!names.contains('settings')) db.createObjectStore('settings');
  if (!names.contains('chunks')) db.createObjectStore('chunks');
  if (!names.contains('ledger')) db.createObjectStore('ledger');
  const legacy = ['logs', 'outbox', 'outcomes'].filter((n) => names.contains(n as never));
  if (legacy.length === 0) return;
  const old = (name: string) => (tx as unknown as { objectStore(n: string): AnyStore }).objectStore(name);
  const read = <T>(name: string): Promise<T[]> =>
    legacy.includes(name) ? (old(name).getAll() as Promise<T[]>) : Promise.resolve([]);
  void Promise.all([read<LegacyLog>('logs'), read<{ ids: string[] }>('outbox'), read<LegacyOutcome>('outcomes')]).then(
    ([logs, outbox, outcomes]) => {
      const queued = oldVersion >= 3 ? new Set(outbox.flatMap((c) => c.ids)) : null;
      const logItems = logs.map(
        (r): ChunkItem => ({
          id: r.log.id,
          createdAt: r.log.createdAt,
          row: r.label === undefined ? { log: r.log } : { log: r.log, label: r.label },
          pending: queued ? queued.has(r.log.id) : r.synced === 0,
          rejection: r.synced === 2 ? (r.rejection ?? { code: 'rejected', message: '', at: '' }) : undefined,
        }),
      );
      const outcomeItems = outcomes.map((r): ChunkItem => {
        const { synced, rejection, ...row } = r;
        return {
          id: r.outcome.id,
          createdAt: r.outcome.recordedAt,
          row,
          pending: synced === 0,
          rejection: synced === 2 ? (rejection ?? { code: 'rejected', message: '', at: '' }) : undefined,
        };
      });
      const byId = (a: ChunkItem, b: ChunkItem) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
      const chunks = tx.objectStore('chunks');
      const ledger = tx.objectStore('ledger');
      for (const [kind, items] of [
        ['log', logItems.sort(byId)],
        ['outcome', outcomeItems.sort(byId)],
      ] as const) {
        for (const c of buildChunks(kind, items)) {
          void chunks.add(c.chunk, c.key);
          void ledger.add(c.ledger, c.key);
        }
      }
      for (const name of legacy) db.deleteObjectStore(name as never);
    },
  );
}
