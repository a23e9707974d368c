/**
 * One kind of record the device keeps until the server has it (prediction logs, outcomes): the one family of
 * methods both use — add, list, what to send next, mark synced / rejected, retry, count, prune. Rows live in
 * chunk records and are written once (rewritten only when pruned, or when a few are appended to a small chunk);
 * sync bookkeeping rewrites only the small ledger records (see `device-db.ts`). Rows handed out carry their
 * derived sync state.
 */
import type { IDBPDatabase, IDBPObjectStore, StoreNames } from 'idb';
import {
  buildChunks,
  type ChunkItem,
  type ChunkKey,
  type JukeboxDb,
  kindRange,
  type LedgerRecord,
  type RecordKind,
  type RejectedEntry,
  type StoredRejection,
} from './device-db.ts';
import { runStorage, type StorageResult } from './storage-errors.ts';

/**
 * Sync state of an item: pending (0) until the server acknowledges it (1), or refused with a code (2; kept with
 * its reason, never retried by accident).
 */
export const SYNC_STATE = { pending: 0, synced: 1, rejected: 2 } as const;
export type SyncFlag = (typeof SYNC_STATE)[keyof typeof SYNC_STATE];

/** A row as handed out: what was stored, plus its sync state (and why, when refused). */
export interface Stated {
  readonly synced: SyncFlag;
  readonly rejection?: StoredRejection;
}
/** A row as stored: without its sync state, which the ledger keeps. */
export type Kept<Row extends Stated> = Omit<Row, 'synced' | 'rejection'>;

export interface OutboxCounts {
  readonly total: number;
  readonly unsynced: number;
  readonly rejected: number;
}

/** An item refused by the server, by id, with its contract code and message. */
export interface RejectionInput {
  readonly id: string;
  readonly code: string;
  readonly message: string;
}

export interface FamilySpec<Row extends Stated> {
  readonly kind: RecordKind;
  readonly id: (row: Kept<Row>) => string;
  /** Device time the item was made: pruning by age compares it. */
  readonly createdAt: (row: Kept<Row>) => string;
}

/** A save of at most this many rows goes into the newest chunk while it stays this small (single predictions). */
export const APPEND_LIMIT = 64;

type Entry = { readonly key: ChunkKey; readonly ledger: LedgerRecord };
type Stores = StoreNames<JukeboxDb>[];
type LedgerStore<M extends IDBTransactionMode> = IDBPObjectStore<JukeboxDb, Stores, 'ledger', M>;

async function entriesOf<M extends IDBTransactionMode>(ledger: LedgerStore<M>, kind: RecordKind): Promise<Entry[]> {
  const range = kindRange(kind);
  const [keys, values] = await Promise.all([ledger.getAllKeys(range), ledger.getAll(range)]);
  return values.map((ledger, i) => ({ key: keys[i]!, ledger }));
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/** The earlier of two ISO times (strings: Math.min does not apply). */
const earlier = (a: string, b: string) => (byString(a, b) <= 0 ? a : b);

export class RecordOutbox<Row extends Stated> {
  readonly #db: IDBPDatabase<JukeboxDb>;
  readonly #spec: FamilySpec<Row>;
  constructor(db: IDBPDatabase<JukeboxDb>, spec: FamilySpec<Row>) {
    this.#db = db;
    this.#spec = spec;
  }

  /**
   * Adds rows, pending, in one transaction (all or none); returns how many were new. Re-adding an id keeps the
   * stored one (only chunks whose id range overlaps the new rows are read to find them).
   */
  add(rows: readonly Kept<Row>[]): Promise<StorageResult<number>> {
    const { kind, id, createdAt } = this.#spec;
    return runStorage(async () => {
      if (rows.length === 0) return 0;
      // Relaxed: committed once the browser has the data, without waiting for the disk flush (what a crash could
      // lose is the last moment, and those rows are then simply not there).
      const tx = this.#db.transaction(['chunks', 'ledger'], 'readwrite', {
        durability: rows.length > 1 ? 'relaxed' : 'default',
      });
      const chunks = tx.objectStore('chunks');
      const ledger = tx.objectStore('ledger');
      let sorted = rows.map((row) => ({ id: id(row), row }));
      if (sorted.some((r, i) => i > 0 && r.id < sorted[i - 1]!.id))
        sorted = sorted.sort((a, b) => byString(a.id, b.id));
      const lo = sorted[0]!.id;
      const hi = sorted[sorted.length - 1]!.id;
      const entries = await entriesOf(ledger, kind);
      const overlapping = entries.filter((e) => e.ledger.lo <= hi && e.ledger.hi >= lo);
      const seen = new Set<string>();
      for (const c of await Promise.all(overlapping.map((e) => chunks.get(e.key)))) {
        for (const r of (c?.rows ?? []) as Kept<Row>[]) seen.add(id(r));
      }
      const items: ChunkItem[] = [];
      for (const r of sorted) {
        // The same id twice in one call: keep the first, as a later call would.
        if (seen.has(r.id)) continue;
        seen.add(r.id);
        items.push({ id: r.id, createdAt: createdAt(r.row), row: r.row, pending: true });
      }
      if (items.length === 0) {
        await tx.done;
        return 0;
      }
      const writes: Promise<unknown>[] = [];
      const newest = entries.reduce<Entry | undefined>((a, e) => (!a || e.ledger.hi > a.ledger.hi ? e : a), undefined);
      if (newest && newest.ledger.hi < items[0]!.id && newest.ledger.size + items.length <= APPEND_LIMIT) {
        // A single prediction joins the newest small chunk rather than making a record of its own.
        const chunk = await chunks.get(newest.key);
        if (chunk) {
          const l = newest.ledger;
          const oldest = items.reduce((m, it) => earlier(it.createdAt, m), l.oldest);
          writes.push(
            chunks.put({ rows: [...chunk.rows, ...items.map((it) => it.row)] }, newest.key),
            ledger.put(
              {
                ...l,
                hi: items[items.length - 1]!.id,
                size: l.size + items.length,
                oldest,
                pending: [...l.pending, ...items.map((it) => it.id)],
              },
              newest.key,
            ),
          );
          await Promise.all([...writes, tx.done]);
          return items.length;
        }
      }
      // Every request issued at once and awaited together: awaiting each costs a round trip per record.
      for (const c of buildChunks(kind, items, new Set(entries.map((e) => e.key[1])))) {
        writes.push(chunks.add(c.chunk, c.key), ledger.add(c.ledger, c.key));
      }
      await Promise.all([...writes, tx.done]);
      return items.length;
    });
  }

  /** Newest first (ids are UUID v7: id order is time order); `match` filters while reading. */
  list(
    options: { limit?: number; before?: string; match?: (row: Row) => boolean } = {},
  ): Promise<StorageResult<Row[]>> {
    const { kind, id } = this.#spec;
    return runStorage(async () => {
      const limit = options.limit ?? 500;
      const before = options.before;
      const tx = this.#db.transaction(['chunks', 'ledger']);
      const chunks = tx.objectStore('chunks');
      // Chunks by their newest id, newest first; rows of a later chunk can only be newer than its `hi` when
      // chunks overlap (two tabs saving at once), so rows are released once no chunk left can hold newer ones.
      const entries = (await entriesOf(tx.objectStore('ledger'), kind))
        .filter((e) => before === undefined || e.ledger.lo < before)
        .sort((a, b) => byString(b.ledger.hi, a.ledger.hi));
      const out: Row[] = [];
      let held: Row[] = [];
      const release = (above: string | null) => {
        held.sort((a, b) => byString(id(b), id(a)));
        let n = 0;
        while (n < held.length && (above === null || id(held[n]!) > above)) n++;
        out.push(...held.slice(0, n));
        held = held.slice(n);
      };
      for (const e of entries) {
        release(e.ledger.hi);
        if (out.length >= limit) break;
        const chunk = await chunks.get(e.key);
        const state = stateOf<Row>(e.ledger);
        for (const r of (chunk?.rows ?? []) as Kept<Row>[]) {
          if (before !== undefined && id(r) >= before) continue;
          const row = state(id(r), r);
          if (!options.match || options.match(row)) held.push(row);
        }
      }
      release(null);
      return out.slice(0, limit);
    });
  }

  /**
   * Pending rows, oldest first: what the sync engine sends next (rejected ones are not pending). `skip`: ids just
   * acknowledged whose mark may not have landed yet (the engine reads the next batch while marking).
   */
  unsynced(limit = 1000, skip?: ReadonlySet<string>): Promise<StorageResult<Row[]>> {
    const { kind, id } = this.#spec;
    return runStorage(async () => {
      const tx = this.#db.transaction(['chunks', 'ledger']);
      const entries = await entriesOf(tx.objectStore('ledger'), kind);
      const wanted: { id: string; entry: number }[] = [];
      entries.forEach((e, entry) => {
        for (const pid of e.ledger.pending) if (!skip?.has(pid)) wanted.push({ id: pid, entry });
      });
      wanted.sort((a, b) => byString(a.id, b.id));
      wanted.length = Math.min(wanted.length, limit);
      const needed = [...new Set(wanted.map((w) => w.entry))];
      const chunks = tx.objectStore('chunks');
      const read = await Promise.all(needed.map((i) => chunks.get(entries[i]!.key)));
      const ids = new Set(wanted.map((w) => w.id));
      const rows: Row[] = [];
      for (const c of read) {
        for (const r of (c?.rows ?? []) as Kept<Row>[]) {
          if (ids.has(id(r))) rows.push({ ...r, synced: SYNC_STATE.pending } as unknown as Row);
        }
      }
      return rows.sort((a, b) => byString(id(a), id(b)));
    });
  }

  /**
   * Marks acknowledged ids synced: takes them out of their chunks' ledgers (the rows are not rewritten). Unknown,
   * synced and rejected ids are ignored. Returns how many changed.
   */
  markSynced(ids: readonly string[]): Promise<StorageResult<number>> {
    return this.#moveFromPending(ids, () => undefined);
  }

  /**
   * Sets aside items the server refused with a code: out of the outbox (so they are not sent again and again),
   * kept with the reason to be shown. Only pending items move: an acknowledged id is never un-synced by a late
   * rejection of a duplicate.
   */
  markRejected(rejections: readonly RejectionInput[], at = new Date()): Promise<StorageResult<number>> {
    const byId = new Map(rejections.map((r) => [r.id, r]));
    return this.#moveFromPending(
      rejections.map((r) => r.id),
      (pid) => {
        const r = byId.get(pid)!;
        return { id: pid, code: r.code, message: r.message, at: at.toISOString() };
      },
    );
  }

  #moveFromPending(
    ids: readonly string[],
    rejection: (id: string) => RejectedEntry | undefined,
  ): Promise<StorageResult<number>> {
    return runStorage(async () => {
      const wanted = new Set(ids);
      if (wanted.size === 0) return 0;
      const tx = this.#db.transaction('ledger', 'readwrite', { durability: 'relaxed' });
      const writes: Promise<unknown>[] = [];
      let moved = 0;
      for (const e of await entriesOf(tx.store, this.#spec.kind)) {
        const l = e.ledger;
        if (!l.pending.some((p) => wanted.has(p))) continue;
        const pending: string[] = [];
        const rejected = [...l.rejected];
        for (const p of l.pending) {
          if (!wanted.delete(p)) {
            pending.push(p);
            continue;
          }
          moved++;
          const r = rejection(p);
          if (r) rejected.push(r);
        }
        writes.push(tx.store.put({ ...l, pending, rejected }, e.key));
      }
      await Promise.all([...writes, tx.done]);
      return moved;
    });
  }

  /** Puts rejected items back in the outbox (e.g. after the label fixed the server side). */
  retryRejected(): Promise<StorageResult<number>> {
    return runStorage(async () => {
      const tx = this.#db.transaction('ledger', 'readwrite');
      const writes: Promise<unknown>[] = [];
      let moved = 0;
      for (const e of await entriesOf(tx.store, this.#spec.kind)) {
        const l = e.ledger;
        if (l.rejected.length === 0) continue;
        moved += l.rejected.length;
        const pending = [...l.pending, ...l.rejected.map((r) => r.id)].sort(byString);
        writes.push(tx.store.put({ ...l, pending, rejected: [] }, e.key));
      }
      await Promise.all([...writes, tx.done]);
      return moved;
    });
  }

  /** Totals from the ledger alone (no row is read). */
  count(): Promise<StorageResult<OutboxCounts>> {
    return runStorage(async () => {
      const tx = this.#db.transaction('ledger');
      let total = 0;
      let unsynced = 0;
      let rejected = 0;
      for (const { ledger: l } of await entriesOf(tx.store, this.#spec.kind)) {
        total += l.size;
        unsynced += l.pending.length;
        rejected += l.rejected.length;
      }
      return { total, unsynced, rejected };
    });
  }

  /**
   * Deletes synced items, oldest first: those made before `olderThan`, and then up to `extra` more of the oldest
   * synced ones (quota pressure). Pending and rejected items are never touched: the device is their only copy.
   * Returns how many were deleted.
   */
  prune(options: { olderThan?: Date; extra?: number }): Promise<StorageResult<number>> {
    const { kind, id, createdAt } = this.#spec;
    return runStorage(async () => {
      const cutoff = options.olderThan?.toISOString();
      let extra = options.extra ?? 0;
      if (cutoff === undefined && extra <= 0) return 0;
      const tx = this.#db.transaction(['chunks', 'ledger'], 'readwrite');
      const chunks = tx.objectStore('chunks');
      const ledger = tx.objectStore('ledger');
      const entries = (await entriesOf(ledger, kind)).sort((a, b) => byString(a.ledger.lo, b.ledger.lo));
      let deleted = 0;
      for (const { key, ledger: l } of entries) {
        if (l.size === l.pending.length + l.rejected.length) continue;
        // Nothing old here and nothing more wanted for space: the rows need not be read.
        if (extra <= 0 && (cutoff === undefined || l.oldest >= cutoff)) continue;
        const chunk = await chunks.get(key);
        if (!chunk) continue;
        const keep = new Set([...l.pending, ...l.rejected.map((r) => r.id)]);
        const left: Kept<Row>[] = [];
        for (const r of chunk.rows as Kept<Row>[]) {
          const old = cutoff !== undefined && createdAt(r) < cutoff;
          if (keep.has(id(r)) || (!old && extra <= 0)) {
            left.push(r);
            continue;
          }
          if (!old) extra--;
          deleted++;
        }
        if (left.length === chunk.rows.length) continue;
        if (left.length === 0) {
          await Promise.all([chunks.delete(key), ledger.delete(key)]);
          continue;
        }
        const oldest = left.reduce((m, r) => earlier(createdAt(r), m), createdAt(left[0]!));
        await Promise.all([chunks.put({ rows: left }, key), ledger.put({ ...l, size: left.length, oldest }, key)]);
      }
      await tx.done;
      return deleted;
    });
  }
}

/** A stored row with its sync state derived from its chunk's ledger. */
function stateOf<Row extends Stated>(l: LedgerRecord): (id: string, row: Kept<Row>) => Row {
  const pending = new Set(l.pending);
  const rejected = new Map(l.rejected.map((r) => [r.id, r]));
  return (id, row) => {
    const r = rejected.get(id);
    if (r)
      return {
        ...row,
        synced: SYNC_STATE.rejected,
        rejection: { code: r.code, message: r.message, at: r.at },
      } as unknown as Row;
    return { ...row, synced: pending.has(id) ? SYNC_STATE.pending : SYNC_STATE.synced } as unknown as Row;
  };
}
