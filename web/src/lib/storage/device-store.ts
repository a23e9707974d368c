/**
 * Everything the app keeps on the device, in one IndexedDB database: the
 * prediction outbox (every log, with a sync state the sync engine reads in
 * id order), the outcomes the marketer recorded (a second outbox), the
 * catalogue, and small settings (device id, enrollment token, the label's
 * pinned public key, backend benchmark). Every IndexedDB failure becomes a
 * contract code (quota, blocked upgrade, private mode, other) carried as a
 * value.
 */
import { type DBSchema, type IDBPDatabase, openDB } from 'idb';
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

/** A log as stored: the contract record untouched, plus local bookkeeping. */
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
  outcomes: { key: string; value: StoredOutcome; indexes: { 'by-synced': [number, string]; 'by-log': string } };
  catalogue: { key: string; value: StoredCatalogue };
  settings: { key: string; value: unknown };
}

export const DB_NAME = 'jukebox-edge';
/** 2: outcomes store; logs may be `synced: 2` (rejected). */
export const DB_VERSION = 2;
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
        upgrade(db) {
          if (!db.objectStoreNames.contains('logs')) {
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
      const tx = this.db.transaction('logs', 'readwrite', { durability: logs.length > 1 ? 'relaxed' : 'default' });
      let lo = logs[0]!.id;
      let hi = lo;
      for (const l of logs) {
        if (l.id < lo) lo = l.id;
        if (l.id > hi) hi = l.id;
      }
      const existing = new Set(await tx.store.getAllKeys(IDBKeyRange.bound(lo, hi)));
      const writes: Promise<unknown>[] = [];
      for (let i = 0; i < logs.length; i++) {
        const log = logs[i]!;
        if (existing.has(log.id)) continue;
        // The same id twice in one call: keep the first, as a later call would.
        existing.add(log.id);
        const label = labels?.[i];
        writes.push(tx.store.add(label ? { log, synced: 0, label } : { log, synced: 0 }));
      }
      await Promise.all([...writes, tx.done]);
      return writes.length;
    });
  }

  /** Newest first (ids are UUID v7, so key order is time order); `match` filters while scanning. */
  listLogs(
    options: { limit?: number; before?: string; match?: (l: StoredLog) => boolean } = {},
  ): Promise<StorageResult<StoredLog[]>> {
    return this.run(async () => {
      const out: StoredLog[] = [];
      const range = options.before ? IDBKeyRange.upperBound(options.before, true) : undefined;
      let cursor = await this.db.transaction('logs').store.openCursor(range, 'prev');
      const limit = options.limit ?? 500;
      while (cursor && out.length < limit) {
        if (!options.match || options.match(cursor.value)) out.push(cursor.value);
        cursor = await cursor.continue();
      }
      return out;
    });
  }

  /** Unsynced logs, oldest first: what the sync engine sends next (rejected ones are not in this range). */
  unsyncedLogs(limit = 1000): Promise<StorageResult<PredictionLog[]>> {
    return this.run(async () => {
      const rows = await this.db.getAllFromIndex('logs', 'by-synced', inState(SYNC_STATE.pending), limit);
      return rows.map((r) => r.log);
    });
  }

  /** Unsynced rows (log, label), oldest first: the sync engine's read, kept so marking needs no second read. */
  unsyncedLogRows(limit = 1000): Promise<StorageResult<StoredLog[]>> {
    return this.run(() => this.db.getAllFromIndex('logs', 'by-synced', inState(SYNC_STATE.pending), limit));
  }

  /**
   * Marks rows just read as pending (by `unsyncedLogRows`) as synced, writing them back without reading them
   * again: half the work of `markSynced` for a 1,000-log batch. Only the sync engine moves a pending row, one
   * pass at a time, so a row read as pending is still pending here.
   */
  markRowsSynced(rows: readonly StoredLog[]): Promise<StorageResult<number>> {
    return this.run(async () => {
      const tx = this.db.transaction('logs', 'readwrite', { durability: 'relaxed' });
      const writes = rows
        .filter((r) => r.synced === SYNC_STATE.pending)
        .map((r) => tx.store.put({ ...r, synced: SYNC_STATE.synced }));
      await Promise.all([...writes, tx.done]);
      return writes.length;
    });
  }

  /** Marks acknowledged ids as synced; unknown ids are ignored. Returns how many changed. */
  markSynced(ids: readonly string[]): Promise<StorageResult<number>> {
    return this.#setState('logs', ids, SYNC_STATE.synced);
  }

  /**
   * Sets aside logs the server refused with a code: they leave the unsynced range (so they are not sent again
   * and again) but are kept, with the reason, to be shown. A synced log stays synced.
   */
  markRejected(rejections: readonly RejectionInput[], at = new Date()): Promise<StorageResult<number>> {
    return this.#setState('logs', rejections, SYNC_STATE.rejected, at);
  }

  /** Puts rejected logs back in the outbox (e.g. after the label fixed the server side). */
  retryRejected(): Promise<StorageResult<number>> {
    return this.run(async () => {
      const tx = this.db.transaction('logs', 'readwrite');
      let changed = 0;
      for (const row of await tx.store.index('by-synced').getAll(inState(SYNC_STATE.rejected))) {
        const { rejection: _dropped, ...rest } = row;
        await tx.store.put({ ...rest, synced: SYNC_STATE.pending });
        changed++;
      }
      await tx.done;
      return changed;
    });
  }

  async #setState(
    storeName: 'logs' | 'outcomes',
    items: readonly (string | RejectionInput)[],
    flag: SyncFlag,
    at = new Date(),
  ): Promise<StorageResult<number>> {
    return this.run(async () => {
      const tx = this.db.transaction(storeName, 'readwrite');
      // All reads issued at once, then all writes: one round trip per phase, not per item (1,000-item batches).
      const rows = (await Promise.all(
        items.map((item) => tx.store.get(typeof item === 'string' ? item : item.id)),
      )) as (StoredLog | StoredOutcome | undefined)[];
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
    return this.#count('logs');
  }

  #count(storeName: 'logs' | 'outcomes'): Promise<StorageResult<OutboxCounts>> {
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
      const tx = this.db.transaction('logs', 'readwrite');
      const cutoff = options.olderThan?.toISOString();
      let extra = options.extra ?? 0;
      let deleted = 0;
      let cursor = await tx.store.index('by-synced').openCursor(inState(SYNC_STATE.synced));
      while (cursor) {
        const old = cutoff !== undefined && cursor.value.log.createdAt < cutoff;
        if (!old && extra <= 0) break;
        if (!old) extra--;
        await cursor.delete();
        deleted++;
        cursor = await cursor.continue();
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
