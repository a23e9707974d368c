/**
 * Everything the app keeps on the device, in one IndexedDB database: the
 * prediction outbox (every log, with a `synced` flag the sync engine reads in
 * id order), the catalogue, and small settings (device id, backend
 * benchmark). Every IndexedDB failure becomes a contract code (quota,
 * blocked upgrade, private mode, other) carried as a value.
 */
import { type DBSchema, type IDBPDatabase, openDB } from 'idb';
import { uuidv7 } from 'uuidv7';
import type { Catalogue } from '../../../../model/contract/api.ts';
import { type Failure, fail, ok, type Result } from '../../../../model/contract/errors.ts';
import type { PredictionLog } from '../../../../model/contract/prediction-log.ts';

export type StorageErrorCode = 'quota-exceeded' | 'storage-blocked' | 'storage-unavailable' | 'storage-failed';
export type StorageResult<T> = Result<T, StorageErrorCode>;

/** A log as stored: the contract record untouched, plus local bookkeeping. */
export interface StoredLog {
  readonly log: PredictionLog;
  /** 0 = not yet acknowledged by the server, 1 = acknowledged. Numbers, because booleans are not valid keys. */
  readonly synced: 0 | 1;
  /** Song name and artists when known, for the history filter (not part of the contract). */
  readonly label?: string;
}

export interface StoredCatalogue extends Catalogue {
  readonly storedAt: string;
}

interface JukeboxDb extends DBSchema {
  logs: { key: string; value: StoredLog; indexes: { 'by-synced': [number, string] } };
  catalogue: { key: string; value: StoredCatalogue };
  settings: { key: string; value: unknown };
}

export const DB_NAME = 'jukebox-edge';
export const DB_VERSION = 1;
const CATALOGUE_KEY = 'current';

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

  /** Adds logs in one transaction (all or none), unsynced. Re-adding an id keeps the stored one. */
  addLogs(logs: readonly PredictionLog[], labels?: readonly (string | undefined)[]): Promise<StorageResult<number>> {
    return this.run(async () => {
      const tx = this.db.transaction('logs', 'readwrite');
      let added = 0;
      for (let i = 0; i < logs.length; i++) {
        const log = logs[i]!;
        const label = labels?.[i];
        const existing = await tx.store.getKey(log.id);
        if (existing !== undefined) continue;
        await tx.store.add(label ? { log, synced: 0, label } : { log, synced: 0 });
        added++;
      }
      await tx.done;
      return added;
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

  /** Unsynced logs, oldest first: what the sync engine sends next. */
  unsyncedLogs(limit = 1000): Promise<StorageResult<PredictionLog[]>> {
    return this.run(async () => {
      const range = IDBKeyRange.bound([0, ''], [0, '\uffff']);
      const rows = await this.db.getAllFromIndex('logs', 'by-synced', range, limit);
      return rows.map((r) => r.log);
    });
  }

  /** Marks acknowledged ids as synced; unknown ids are ignored. Returns how many changed. */
  markSynced(ids: readonly string[]): Promise<StorageResult<number>> {
    return this.run(async () => {
      const tx = this.db.transaction('logs', 'readwrite');
      let changed = 0;
      for (const id of ids) {
        const row = await tx.store.get(id);
        if (row && row.synced === 0) {
          await tx.store.put({ ...row, synced: 1 });
          changed++;
        }
      }
      await tx.done;
      return changed;
    });
  }

  countLogs(): Promise<StorageResult<{ total: number; unsynced: number }>> {
    return this.run(async () => {
      const tx = this.db.transaction('logs');
      const total = await tx.store.count();
      const unsynced = await tx.store.index('by-synced').count(IDBKeyRange.bound([0, ''], [0, '\uffff']));
      return { total, unsynced };
    });
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
