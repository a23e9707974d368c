/**
 * Everything the app keeps on the device, in one IndexedDB database: the
 * prediction logs, the outbox of their ids not yet synced (a few records of
 * up to 2,000 ids each, so marking a 1,000-log batch synced rewrites one or
 * two small records, not 1,000 logs), the outcomes the marketer recorded (a second outbox), the
 * catalogue, and small settings (device id, enrollment token, the label's
 * pinned public key, backend benchmark). Every IndexedDB failure becomes a
 * contract code (quota, blocked upgrade, private mode, other) carried as a
 * value.
 */
import { type DBSchema, type IDBPDatabase, type IDBPObjectStore, openDB, type StoreNames } from 'idb';
import { uuidv7 } from 'uuidv7';
import type { Catalogue } from '../../../../model/contract/api.ts';
import { type Failure, fail, ok, type Result } from '../../../../model/contract/errors.ts';
import type { Outcome } from '../../../../model/contract/outcome.ts';
import type { PredictionLog } from '../../../../model/contract/prediction-log.ts';

export type StorageErrorCode = 'quota-exceeded' | 'storage-blocked' | 'storage-unavailable' | 'storage-failed';
export type StorageResult<T> = Result<T, StorageErrorCode>;

/**
 * Sync state of an outbox item. Numbers, because booleans are not valid keys: the `[synced, id]` index then
 * lists what to send next (0) in id order, and rejected items (2) are out of that range, so they are never
 * retried by accident.
 */
export const SYNC_STATE = { pending: 0, synced: 1, rejected: 2 } as const;
export type SyncFlag = (typeof SYNC_STATE)[keyof typeof SYNC_STATE];

/** Why the server refused an item (its contract code and message), kept to show the marketer. */
export interface StoredRejection {
  readonly code: string;
  readonly message: string;
  readonly at: string;
}

/**
 * A log as stored: the contract record untouched, plus local bookkeeping. In the `logs` store, `synced` says only
 * whether it was rejected (2); pending means its id is in the `outbox` store, and anything else is synced. Rows this
 * module hands out carry the derived state.
 */
export interface StoredLog {
  readonly log: PredictionLog;
  readonly synced: SyncFlag;
  /** Song name and artists when known, for the history filter (not part of the contract). */
  readonly label?: string;
  readonly rejection?: StoredRejection;
}

/** An outcome the marketer recorded, as stored: the contract record plus its sync state. */
export interface StoredOutcome {
  readonly outcome: Outcome;
  readonly synced: SyncFlag;
  /** The prediction log it was recorded from, to show it next to that log. */
  readonly logId?: string;
  readonly label?: string;
  readonly rejection?: StoredRejection;
}

export interface OutboxCounts {
  readonly total: number;
  readonly unsynced: number;
  readonly rejected: number;
}

/** What the server gave this device at enrollment. */
export interface Enrollment {
  readonly deviceId: string;
  readonly token: string;
  readonly enrolledAt: string;
}

export interface StoredCatalogue extends Catalogue {
  readonly storedAt: string;
}

interface JukeboxDb extends DBSchema {
  logs: { key: string; value: StoredLog; indexes: { 'by-synced': [number, string] } };
  /** Ids of the logs not yet synced (nor rejected), in chunks; a log is pending iff its id is in one chunk. */
  outbox: { key: number; value: OutboxChunk };
  outcomes: { key: string; value: StoredOutcome; indexes: { 'by-synced': [number, string]; 'by-log': string } };
  catalogue: { key: string; value: StoredCatalogue };
  settings: { key: string; value: unknown };
}

interface OutboxChunk {
  readonly ids: string[];
}

export const DB_NAME = 'jukebox-edge';
/** 2: outcomes store; logs may be `synced: 2` (rejected). 3: the `outbox` store holds what is pending. */
export const DB_VERSION = 3;
/** Ids per outbox record: a new log's id is appended to the last record while it has room. */
export const OUTBOX_CHUNK = 2_000;
const CATALOGUE_KEY = 'current';
const ENROLLMENT_KEY = 'enrollment';
const LABEL_KEY_KEY = 'label-public-key';
/** Index ranges of one sync state (functions: IDBKeyRange does not exist where the module is only imported). */
const inState = (flag: SyncFlag) => IDBKeyRange.bound([flag, ''], [flag, '\uffff']);

/** Maps whatever IndexedDB threw to a contract code (the one place that knows DOMException names). */
export function storageErrorCode(err: unknown): StorageErrorCode {
  const name = (err as { name?: string } | null)?.name ?? '';
  const inner = (err as { inner?: { name?: string } } | null)?.inner?.name ?? '';
  if (name === 'QuotaExceededError' || inner === 'QuotaExceededError') return 'quota-exceeded';
  if (name === 'StorageBlockedError') return 'storage-blocked';
  // Firefox private mode and disabled storage throw these on open.
  if (name === 'SecurityError' || name === 'InvalidStateError' || name === 'NotSupportedError') {
    return 'storage-unavailable';
  }
  return 'storage-failed';
}

function failure(err: unknown): Failure<StorageErrorCode> {
  const code = storageErrorCode(err);
  return fail(code, { cause: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
}

/** An item refused by the server, by id, with its contract code and message. */
export interface RejectionInput {
  readonly id: string;
  readonly code: string;
  readonly message: string;
}

export interface OpenOptions {
  readonly name?: string;
  readonly version?: number;
  /** How long to wait for other tabs to release an old version before giving up. */
  readonly blockedTimeoutMs?: number;
}

/** The device's own storage; open it with `DeviceStore.open()`. */
export class DeviceStore {
  private constructor(private readonly db: IDBPDatabase<JukeboxDb>) {}

  static async open(options: OpenOptions = {}): Promise<StorageResult<DeviceStore>> {
    if (typeof indexedDB === 'undefined') return fail('storage-unavailable', { reason: 'no indexedDB' });
    const timeout = options.blockedTimeoutMs ?? 5_000;
    let blockedTimer: ReturnType<typeof setTimeout> | undefined;
    let giveUp: (reason: unknown) => void = () => {};
    const gaveUp = new Promise<never>((_resolve, reject) => {
      giveUp = reject;
    });
    let abandoned = false;
    try {
      const opening = openDB<JukeboxDb>(options.name ?? DB_NAME, options.version ?? DB_VERSION, {
        upgrade(db, oldVersion, _newVersion, tx) {
          const hadLogs = db.objectStoreNames.contains('logs');
          if (!hadLogs) {
            const logs = db.createObjectStore('logs', { keyPath: 'log.id' });
            logs.createIndex('by-synced', ['synced', 'log.id']);
          }
          if (!db.objectStoreNames.contains('outcomes')) {
            const outcomes = db.createObjectStore('outcomes', { keyPath: 'outcome.id' });
            outcomes.createIndex('by-synced', ['synced', 'outcome.id']);
            outcomes.createIndex('by-log', 'logId');
          }
          if (!db.objectStoreNames.contains('catalogue')) db.createObjectStore('catalogue');
          if (!db.objectStoreNames.contains('settings')) db.createObjectStore('settings');
          if (!db.objectStoreNames.contains('outbox')) {
            const outbox = db.createObjectStore('outbox', { autoIncrement: true });
            // Before version 3 a pending log said so itself (`synced: 0`): queue those ids, in the upgrade's own
            // transaction, so an update loses nothing unsynced.
            if (hadLogs && oldVersion < 3) {
              void tx
                .objectStore('logs')
                .index('by-synced')
                .getAllKeys(inState(SYNC_STATE.pending))
                .then((ids) => {
                  for (let i = 0; i < ids.length; i += OUTBOX_CHUNK)
                    void outbox.add({ ids: ids.slice(i, i + OUTBOX_CHUNK) });
                });
            }
          }
        },
        blocked() {
          // Another tab holds an older version open; the upgrade waits for it. Give up after a while.
          blockedTimer = setTimeout(
            () => giveUp(Object.assign(new Error('upgrade blocked'), { name: 'StorageBlockedError' })),
            timeout,
          );
        },
        blocking(_current, _next, event) {
          // A newer version of the app wants to upgrade: let it, rather than block it forever.
          (event.target as IDBDatabase).close();
        },
      });
      // If we gave up, a late success must not leave a connection open that blocks the next try.
      opening.then((db) => abandoned && db.close()).catch(() => {});
      const db = await Promise.race([opening, gaveUp]);
      return ok(new DeviceStore(db));
    } catch (err) {
      abandoned = true;
      return failure(err);
    } finally {
      clearTimeout(blockedTimer);
    }
  }

  close(): void {
    this.db.close();
  }

  private async run<T>(fn: () => Promise<T>): Promise<StorageResult<T>> {
    try {
      return ok(await fn());
    } catch (err) {
      return failure(err);
    }
  }

  /**
   * Adds logs in one transaction (all or none), unsynced. Re-adding an id keeps the stored one.
   * Every request is issued at once and awaited together: awaiting each in turn costs a round trip per log
   * (a 14,000-song batch took 10–16 s that way). Ids already stored are found with one key read over the
   * batch's id range (UUID v7: a batch's ids are close together).
   */
  addLogs(logs: readonly PredictionLog[], labels?: readonly (string | undefined)[]): Promise<StorageResult<number>> {
    return this.run(async () => {
      if (logs.length === 0) return 0;
      // Relaxed: committed once the browser has the data, without waiting for the disk flush (the browser still
      // writes it; what a crash could lose is the last moment, and those logs are then simply not there).
      const tx = this.db.transaction(['logs', 'outbox'], 'readwrite', {
        durability: logs.length > 1 ? 'relaxed' : 'default',
      });
      const store = tx.objectStore('logs');
      let lo = logs[0]!.id;
      let hi = lo;
      for (const l of logs) {
        if (l.id < lo) lo = l.id;
        if (l.id > hi) hi = l.id;
      }
      const existing = new Set(await store.getAllKeys(IDBKeyRange.bound(lo, hi)));
      const writes: Promise<unknown>[] = [];
      const added: string[] = [];
      for (let i = 0; i < logs.length; i++) {
        const log = logs[i]!;
        if (existing.has(log.id)) continue;
        // The same id twice in one call: keep the first, as a later call would.
        existing.add(log.id);
        const label = labels?.[i];
        writes.push(store.add(label ? { log, synced: 0, label } : { log, synced: 0 }));
        added.push(log.id);
      }
      if (added.length > 0) writes.push(enqueue(tx.objectStore('outbox'), added));
      await Promise.all([...writes, tx.done]);
      return added.length;
    });
  }

  /** Newest first (ids are UUID v7, so key order is time order); `match` filters while scanning. */
  listLogs(
    options: { limit?: number; before?: string; match?: (l: StoredLog) => boolean } = {},
  ): Promise<StorageResult<StoredLog[]>> {
    return this.run(async () => {
      const out: StoredLog[] = [];
      const range = options.before ? IDBKeyRange.upperBound(options.before, true) : undefined;
      const tx = this.db.transaction(['logs', 'outbox']);
      const pending = new Set((await tx.objectStore('outbox').getAll()).flatMap((c) => c.ids));
      let cursor = await tx.objectStore('logs').openCursor(range, 'prev');
      const limit = options.limit ?? 500;
      while (cursor && out.length < limit) {
        const row = withState(cursor.value, pending);
        if (!options.match || options.match(row)) out.push(row);
        cursor = await cursor.continue();
      }
      return out;
    });
  }

  /** Unsynced logs, oldest first: what the sync engine sends next (rejected ones are not in this range). */
  unsyncedLogs(limit = 1000): Promise<StorageResult<PredictionLog[]>> {
    return this.run(async () => (await this.#unsyncedRows(limit)).map((r) => r.log));
  }

  /** Unsynced rows (log, label), oldest first. */
  unsyncedLogRows(limit = 1000): Promise<StorageResult<StoredLog[]>> {
    return this.run(() => this.#unsyncedRows(limit));
  }

  async #unsyncedRows(limit: number): Promise<StoredLog[]> {
    const tx = this.db.transaction(['logs', 'outbox']);
    const ids = (await tx.objectStore('outbox').getAll())
      .flatMap((c) => c.ids)
      .sort()
      .slice(0, limit);
    if (ids.length === 0) return [];
    const logs = tx.objectStore('logs');
    const range = IDBKeyRange.bound(ids[0]!, ids[ids.length - 1]!);
    // A batch's pending ids are usually adjacent in the store: one range read then beats a read per id.
    let rows: (StoredLog | undefined)[];
    if ((await logs.count(range)) <= ids.length * 2) {
      const wanted = new Set(ids);
      rows = (await logs.getAll(range)).filter((r) => wanted.has(r.log.id));
    } else rows = await Promise.all(ids.map((id) => logs.get(id)));
    return rows.flatMap((r) => (r ? [{ ...r, synced: SYNC_STATE.pending }] : []));
  }

  /** Marks rows read as pending (by `unsyncedLogRows`) as synced; see `markSynced`. */
  markRowsSynced(rows: readonly StoredLog[]): Promise<StorageResult<number>> {
    return this.markSynced(rows.filter((r) => r.synced === SYNC_STATE.pending).map((r) => r.log.id));
  }

  /**
   * Marks acknowledged ids as synced: takes them out of the outbox (one or two small records for a 1,000-log
   * batch; the logs themselves are not rewritten). Unknown, synced and rejected ids are ignored. Returns how many
   * changed.
   */
  markSynced(ids: readonly string[]): Promise<StorageResult<number>> {
    return this.run(async () => {
      const tx = this.db.transaction('outbox', 'readwrite', { durability: 'relaxed' });
      const removed = await dequeue(tx.store, ids);
      await tx.done;
      return removed.length;
    });
  }

  /**
   * Sets aside logs the server refused with a code: they leave the outbox (so they are not sent again and again)
   * but are kept, with the reason, to be shown. A synced log stays synced.
   */
  markRejected(rejections: readonly RejectionInput[], at = new Date()): Promise<StorageResult<number>> {
    return this.run(async () => {
      const tx = this.db.transaction(['logs', 'outbox'], 'readwrite');
      // Only pending logs move: an acknowledged id is never un-synced by a late rejection of a duplicate.
      const removed = new Set(
        await dequeue(
          tx.objectStore('outbox'),
          rejections.map((r) => r.id),
        ),
      );
      const logs = tx.objectStore('logs');
      const writes: Promise<unknown>[] = [];
      for (const r of rejections) {
        if (!removed.delete(r.id)) continue;
        const row = await logs.get(r.id);
        if (!row) continue;
        const rejection = { code: r.code, message: r.message, at: at.toISOString() };
        writes.push(logs.put({ ...row, synced: SYNC_STATE.rejected, rejection }));
      }
      await Promise.all([...writes, tx.done]);
      return writes.length;
    });
  }

  /** Puts rejected logs back in the outbox (e.g. after the label fixed the server side). */
  retryRejected(): Promise<StorageResult<number>> {
    return this.run(async () => {
      const tx = this.db.transaction(['logs', 'outbox'], 'readwrite');
      const logs = tx.objectStore('logs');
      const rows = await logs.index('by-synced').getAll(inState(SYNC_STATE.rejected));
      const writes: Promise<unknown>[] = rows.map((row) => {
        const { rejection: _dropped, ...rest } = row;
        return logs.put({ ...rest, synced: SYNC_STATE.pending });
      });
      if (rows.length > 0)
        writes.push(
          enqueue(
            tx.objectStore('outbox'),
            rows.map((r) => r.log.id),
          ),
        );
      await Promise.all([...writes, tx.done]);
      return rows.length;
    });
  }

  async #setState(
    storeName: 'outcomes',
    items: readonly (string | RejectionInput)[],
    flag: SyncFlag,
    at = new Date(),
  ): Promise<StorageResult<number>> {
    return this.run(async () => {
      const tx = this.db.transaction(storeName, 'readwrite');
      // All reads issued at once, then all writes: one round trip per phase, not per item (1,000-item batches).
      const rows = (await Promise.all(
        items.map((item) => tx.store.get(typeof item === 'string' ? item : item.id)),
      )) as (StoredOutcome | undefined)[];
      const writes: Promise<unknown>[] = [];
      const seen = new Set<string>();
      items.forEach((item, i) => {
        const row = rows[i];
        const id = typeof item === 'string' ? item : item.id;
        // Only pending items move: an acknowledged id is never un-synced by a late rejection of a duplicate.
        if (!row || row.synced !== SYNC_STATE.pending || seen.has(id)) return;
        seen.add(id);
        const rejection =
          typeof item === 'string' ? undefined : { code: item.code, message: item.message, at: at.toISOString() };
        writes.push(tx.store.put(rejection ? { ...row, synced: flag, rejection } : { ...row, synced: flag }));
      });
      await Promise.all([...writes, tx.done]);
      return writes.length;
    });
  }

  countLogs(): Promise<StorageResult<OutboxCounts>> {
    return this.run(async () => {
      const tx = this.db.transaction(['logs', 'outbox']);
      const logs = tx.objectStore('logs');
      const [total, rejected, chunks] = await Promise.all([
        logs.count(),
        logs.index('by-synced').count(inState(SYNC_STATE.rejected)),
        tx.objectStore('outbox').getAll(),
      ]);
      return { total, unsynced: chunks.reduce((n, c) => n + c.ids.length, 0), rejected };
    });
  }

  #count(storeName: 'outcomes'): Promise<StorageResult<OutboxCounts>> {
    return this.run(async () => {
      const tx = this.db.transaction(storeName);
      const total = await tx.store.count();
      const unsynced = await tx.store.index('by-synced').count(inState(SYNC_STATE.pending));
      const rejected = await tx.store.index('by-synced').count(inState(SYNC_STATE.rejected));
      return { total, unsynced, rejected };
    });
  }

  /**
   * Deletes synced logs, oldest first: those created before `olderThan`, and then up to `extra` more of the
   * oldest synced ones (quota pressure). Unsynced and rejected logs are never touched: the device is their
   * only copy. Returns how many were deleted.
   */
  pruneSyncedLogs(options: { olderThan?: Date; extra?: number }): Promise<StorageResult<number>> {
    return this.run(async () => {
      const tx = this.db.transaction(['logs', 'outbox'], 'readwrite');
      const logs = tx.objectStore('logs');
      const cutoff = options.olderThan?.toISOString();
      let extra = options.extra ?? 0;
      if (cutoff === undefined && extra <= 0) return 0;
      // Synced = neither in the outbox nor rejected; keys only, so pending logs cost nothing to skip.
      const [keys, rejected, chunks] = await Promise.all([
        logs.getAllKeys(),
        logs.index('by-synced').getAllKeys(inState(SYNC_STATE.rejected)),
        tx.objectStore('outbox').getAll(),
      ]);
      const keep = new Set<string>([...rejected, ...chunks.flatMap((c) => c.ids)]);
      let deleted = 0;
      for (const id of keys) {
        if (keep.has(id)) continue;
        const row = cutoff === undefined ? undefined : await logs.get(id);
        const old = row !== undefined && row.log.createdAt < cutoff!;
        if (!old && extra <= 0) break;
        if (!old) extra--;
        await logs.delete(id);
        deleted++;
      }
      await tx.done;
      return deleted;
    });
  }

  /** Adds an outcome the marketer recorded (pending). Re-adding an id keeps the stored one. */
  addOutcome(outcome: Outcome, meta: { logId?: string; label?: string } = {}): Promise<StorageResult<boolean>> {
    return this.run(async () => {
      const tx = this.db.transaction('outcomes', 'readwrite');
      if ((await tx.store.getKey(outcome.id)) !== undefined) return false;
      await tx.store.add({ outcome, synced: SYNC_STATE.pending, ...meta });
      await tx.done;
      return true;
    });
  }

  /** Outcomes, newest first (ids are UUID v7); `logId` narrows to those recorded from one prediction. */
  listOutcomes(options: { logId?: string; limit?: number } = {}): Promise<StorageResult<StoredOutcome[]>> {
    return this.run(async () => {
      const limit = options.limit ?? 500;
      if (options.logId !== undefined) {
        const rows = await this.db.getAllFromIndex('outcomes', 'by-log', options.logId);
        return rows.reverse().slice(0, limit);
      }
      const out: StoredOutcome[] = [];
      let cursor = await this.db.transaction('outcomes').store.openCursor(null, 'prev');
      while (cursor && out.length < limit) {
        out.push(cursor.value);
        cursor = await cursor.continue();
      }
      return out;
    });
  }

  unsyncedOutcomes(limit = 1000): Promise<StorageResult<Outcome[]>> {
    return this.run(async () => {
      const rows = await this.db.getAllFromIndex('outcomes', 'by-synced', inState(SYNC_STATE.pending), limit);
      return rows.map((r) => r.outcome);
    });
  }

  markOutcomesSynced(ids: readonly string[]): Promise<StorageResult<number>> {
    return this.#setState('outcomes', ids, SYNC_STATE.synced);
  }

  markOutcomesRejected(rejections: readonly RejectionInput[], at = new Date()): Promise<StorageResult<number>> {
    return this.#setState('outcomes', rejections, SYNC_STATE.rejected, at);
  }

  countOutcomes(): Promise<StorageResult<OutboxCounts>> {
    return this.#count('outcomes');
  }

  getEnrollment(): Promise<StorageResult<Enrollment | undefined>> {
    return this.getSetting<Enrollment>(ENROLLMENT_KEY);
  }

  putEnrollment(e: Enrollment): Promise<StorageResult<void>> {
    return this.putSetting(ENROLLMENT_KEY, e);
  }

  /** Forgets the token (after the server refused it): the device must enroll again. Logs are kept. */
  clearEnrollment(): Promise<StorageResult<void>> {
    return this.run(() => this.db.delete('settings', ENROLLMENT_KEY));
  }

  /** The label's signing public key (JWK) pinned at enrollment, or undefined when none was pinned. */
  getPinnedLabelKey(): Promise<StorageResult<JsonWebKey | undefined>> {
    return this.getSetting<JsonWebKey>(LABEL_KEY_KEY);
  }

  setPinnedLabelKey(key: JsonWebKey): Promise<StorageResult<void>> {
    return this.putSetting(LABEL_KEY_KEY, key);
  }

  getCatalogue(): Promise<StorageResult<StoredCatalogue | undefined>> {
    return this.run(() => this.db.get('catalogue', CATALOGUE_KEY));
  }

  putCatalogue(c: Catalogue): Promise<StorageResult<StoredCatalogue>> {
    return this.run(async () => {
      const stored: StoredCatalogue = { version: c.version, songs: c.songs, storedAt: new Date().toISOString() };
      await this.db.put('catalogue', stored, CATALOGUE_KEY);
      return stored;
    });
  }

  getSetting<T>(key: string): Promise<StorageResult<T | undefined>> {
    return this.run(async () => (await this.db.get('settings', key)) as T | undefined);
  }

  putSetting(key: string, value: unknown): Promise<StorageResult<void>> {
    return this.run(async () => {
      await this.db.put('settings', value, key);
    });
  }

  /** The device id: made once on this device (time-ordered, URL-safe) and kept. */
  deviceId(): Promise<StorageResult<string>> {
    return this.run(async () => {
      const tx = this.db.transaction('settings', 'readwrite');
      const existing = (await tx.store.get('deviceId')) as string | undefined;
      if (existing) return existing;
      const id = `dev_${uuidv7().replaceAll('-', '')}`;
      await tx.store.put(id, 'deviceId');
      await tx.done;
      return id;
    });
  }
}

/**
 * The label's public key pinned at enrollment, for code that has no store at hand (the model updater): opens the
 * device database, reads it and closes it again. Undefined when none was pinned (the build-time key then applies).
 */
export async function getPinnedLabelKey(options: OpenOptions = {}): Promise<StorageResult<JsonWebKey | undefined>> {
  const opened = await DeviceStore.open(options);
  if (!opened.ok) return opened;
  try {
    return await opened.value.getPinnedLabelKey();
  } finally {
    opened.value.close();
  }
}

/** Pins the label's public key (JWK) on this device; see `getPinnedLabelKey`. */
export async function setPinnedLabelKey(key: JsonWebKey, options: OpenOptions = {}): Promise<StorageResult<void>> {
  const opened = await DeviceStore.open(options);
  if (!opened.ok) return opened;
  try {
    return await opened.value.setPinnedLabelKey(key);
  } finally {
    opened.value.close();
  }
}

type OutboxStore<T extends ArrayLike<StoreNames<JukeboxDb>>> = IDBPObjectStore<JukeboxDb, T, 'outbox', 'readwrite'>;

/** Appends ids to the outbox: to its last record while that has room, else in new records. */
async function enqueue<T extends ArrayLike<StoreNames<JukeboxDb>>>(
  outbox: OutboxStore<T>,
  ids: readonly string[],
): Promise<void> {
  let rest = ids;
  const last = await outbox.openCursor(null, 'prev');
  if (last && last.value.ids.length + rest.length <= OUTBOX_CHUNK) {
    await last.update({ ids: [...last.value.ids, ...rest] });
    return;
  }
  const writes: Promise<unknown>[] = [];
  for (; rest.length > 0; rest = rest.slice(OUTBOX_CHUNK))
    writes.push(outbox.add({ ids: rest.slice(0, OUTBOX_CHUNK) }));
  await Promise.all(writes);
}

/** Takes ids out of the outbox; returns those that were in it (each once). */
async function dequeue<T extends ArrayLike<StoreNames<JukeboxDb>>>(
  outbox: OutboxStore<T>,
  ids: readonly string[],
): Promise<string[]> {
  const wanted = new Set(ids);
  const removed: string[] = [];
  let cursor = await outbox.openCursor();
  while (cursor && wanted.size > 0) {
    const before = cursor.value.ids;
    const after = before.filter((id) => !wanted.has(id));
    if (after.length !== before.length) {
      for (const id of before) if (wanted.delete(id)) removed.push(id);
      await (after.length === 0 ? cursor.delete() : cursor.update({ ids: after }));
    }
    cursor = await cursor.continue();
  }
  return removed;
}

/** A stored row with its sync state derived: rejected as stored, pending when queued, otherwise synced. */
function withState(row: StoredLog, pending: ReadonlySet<string>): StoredLog {
  const synced =
    row.synced === SYNC_STATE.rejected
      ? SYNC_STATE.rejected
      : pending.has(row.log.id)
        ? SYNC_STATE.pending
        : SYNC_STATE.synced;
  return synced === row.synced ? row : { ...row, synced };
}
