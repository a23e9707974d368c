/**
 * Everything the app keeps on the device, in one IndexedDB database (layout and upgrades: `device-db.ts`): the
 * prediction logs and the outcomes the marketer recorded — each a `RecordOutbox`, the one family of methods for
 * records kept until the server has them — the catalogue, and small settings (device id, enrollment token, the
 * label's pinned public key, backend benchmark). Every IndexedDB failure becomes a contract code (quota, blocked
 * upgrade, private mode, other) carried as a value.
 */
import { type IDBPDatabase, openDB } from 'idb';
import { uuidv7 } from 'uuidv7';
import type { Catalogue } from '../../../../model/contract/api.ts';
import { fail, ok } from '../../../../model/contract/errors.ts';
import type { Outcome } from '../../../../model/contract/outcome.ts';
import type { PredictionLog } from '../../../../model/contract/prediction-log.ts';
import {
  DB_NAME,
  DB_VERSION,
  type JukeboxDb,
  type StoredCatalogue,
  type StoredRejection,
  upgradeDeviceDb,
} from './device-db.ts';
import { RecordOutbox, type SyncFlag } from './record-outbox.ts';
import { runStorage, type StorageResult, storageFailure } from './storage-errors.ts';

export { CHUNK_SIZE, DB_NAME, DB_VERSION, type StoredCatalogue, type StoredRejection } from './device-db.ts';
export {
  type OutboxCounts,
  RecordOutbox,
  type RejectionInput,
  SYNC_STATE,
  type SyncFlag,
} from './record-outbox.ts';
export { type StorageErrorCode, type StorageResult, storageErrorCode } from './storage-errors.ts';

/** A prediction log as handed out: the contract record untouched, its sync state, and local bookkeeping. */
export interface StoredLog {
  readonly log: PredictionLog;
  readonly synced: SyncFlag;
  /** Song name and artists when known, for the history filter (not part of the contract). */
  readonly label?: string;
  readonly rejection?: StoredRejection;
}

/** An outcome the marketer recorded: the contract record plus its sync state. */
export interface StoredOutcome {
  readonly outcome: Outcome;
  readonly synced: SyncFlag;
  /** The prediction log it was recorded from, to show it next to that log. */
  readonly logId?: string;
  readonly label?: string;
  readonly rejection?: StoredRejection;
}

/** What the server gave this device at enrollment. */
export interface Enrollment {
  readonly deviceId: string;
  readonly token: string;
  readonly enrolledAt: string;
}

const CATALOGUE_KEY = 'current';
const ENROLLMENT_KEY = 'enrollment';
const LABEL_KEY_KEY = 'label-public-key';

export interface OpenOptions {
  readonly name?: string;
  readonly version?: number;
  /** How long to wait for other tabs to release an old version before giving up. */
  readonly blockedTimeoutMs?: number;
}

/** The device's own storage; open it with `DeviceStore.open()`. */
export class DeviceStore {
  /** Prediction logs (contract `PredictionLog`, with the song's label for the history filter). */
  readonly logs: RecordOutbox<StoredLog>;
  /** Outcomes the marketer recorded, with the log they were recorded from. */
  readonly outcomes: RecordOutbox<StoredOutcome>;

  readonly #db: IDBPDatabase<JukeboxDb>;

  private constructor(db: IDBPDatabase<JukeboxDb>) {
    this.#db = db;
    this.logs = new RecordOutbox<StoredLog>(db, {
      kind: 'log',
      id: (r) => r.log.id,
      createdAt: (r) => r.log.createdAt,
    });
    this.outcomes = new RecordOutbox<StoredOutcome>(db, {
      kind: 'outcome',
      id: (r) => r.outcome.id,
      createdAt: (r) => r.outcome.recordedAt,
    });
  }

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
        upgrade: (db, oldVersion, _newVersion, tx) => upgradeDeviceDb(db, oldVersion, tx),
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
      return storageFailure(err);
    } finally {
      clearTimeout(blockedTimer);
    }
  }

  close(): void {
    this.#db.close();
  }

  #run<T>(fn: () => Promise<T>): Promise<StorageResult<T>> {
    return runStorage(fn);
  }

  getEnrollment(): Promise<StorageResult<Enrollment | undefined>> {
    return this.getSetting<Enrollment>(ENROLLMENT_KEY);
  }

  putEnrollment(e: Enrollment): Promise<StorageResult<void>> {
    return this.putSetting(ENROLLMENT_KEY, e);
  }

  /** Forgets the token (after the server refused it): the device must enroll again. Logs are kept. */
  clearEnrollment(): Promise<StorageResult<void>> {
    return this.#run(() => this.#db.delete('settings', ENROLLMENT_KEY));
  }

  /** The label's signing public key (JWK) pinned at enrollment, or undefined when none was pinned. */
  getPinnedLabelKey(): Promise<StorageResult<JsonWebKey | undefined>> {
    return this.getSetting<JsonWebKey>(LABEL_KEY_KEY);
  }

  setPinnedLabelKey(key: JsonWebKey): Promise<StorageResult<void>> {
    return this.putSetting(LABEL_KEY_KEY, key);
  }

  getCatalogue(): Promise<StorageResult<StoredCatalogue | undefined>> {
    return this.#run(() => this.#db.get('catalogue', CATALOGUE_KEY));
  }

  putCatalogue(c: Catalogue): Promise<StorageResult<StoredCatalogue>> {
    return this.#run(async () => {
      const stored: StoredCatalogue = { version: c.version, songs: c.songs, storedAt: new Date().toISOString() };
      await this.#db.put('catalogue', stored, CATALOGUE_KEY);
      return stored;
    });
  }

  getSetting<T>(key: string): Promise<StorageResult<T | undefined>> {
    return this.#run(async () => (await this.#db.get('settings', key)) as T | undefined);
  }

  putSetting(key: string, value: unknown): Promise<StorageResult<void>> {
    return this.#run(async () => {
      await this.#db.put('settings', value, key);
    });
  }

  /** The device id: made once on this device (time-ordered, URL-safe) and kept. */
  deviceId(): Promise<StorageResult<string>> {
    return this.#run(async () => {
      const tx = this.#db.transaction('settings', 'readwrite');
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
