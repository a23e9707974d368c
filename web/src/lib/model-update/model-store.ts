/**
 * The device's model versions in their own IndexedDB database
 * (`jukebox-edge-models`), apart from the prediction outbox so a model
 * download can never block or bloat log storage: verified versions (manifest
 * + file bytes), the active/previous/staged pointers with recent refusals,
 * and model cards fetched beside a version. Implements the updater's
 * `ModelVault`.
 */
import { type DBSchema, type IDBPDatabase, openDB } from 'idb';
import type { Manifest } from '../../../../model/contract/manifest.ts';
import { type ModelPointers, type ModelVault, NO_POINTERS, type StoredModel } from './model-installer.ts';

interface StoredModelRow {
  readonly version: string;
  readonly manifest: Manifest;
  readonly files: [string, Uint8Array][];
  readonly storedAt: string;
}

interface ModelsDb extends DBSchema {
  models: { key: string; value: StoredModelRow };
  meta: { key: string; value: unknown };
}

export const MODELS_DB_NAME = 'jukebox-edge-models';
const POINTERS_KEY = 'pointers';
const cardKey = (version: string) => `card:${version}`;

export class ModelStore implements ModelVault {
  readonly #db: IDBPDatabase<ModelsDb>;
  private constructor(db: IDBPDatabase<ModelsDb>) {
    this.#db = db;
  }

  /** Throws when IndexedDB is unavailable (the app then runs the bundled model without updates). */
  static async open(name = MODELS_DB_NAME): Promise<ModelStore> {
    const db = await openDB<ModelsDb>(name, 1, {
      upgrade(d) {
        if (!d.objectStoreNames.contains('models')) d.createObjectStore('models', { keyPath: 'version' });
        if (!d.objectStoreNames.contains('meta')) d.createObjectStore('meta');
      },
      blocking(_current, _next, event) {
        (event.target as IDBDatabase).close();
      },
    });
    return new ModelStore(db);
  }

  close(): void {
    this.#db.close();
  }

  async get(version: string): Promise<StoredModel | undefined> {
    const row = await this.#db.get('models', version);
    return row ? { manifest: row.manifest, files: new Map(row.files) } : undefined;
  }

  async put(model: StoredModel): Promise<void> {
    await this.#db.put('models', {
      version: model.manifest.version,
      manifest: model.manifest,
      files: [...model.files],
      storedAt: new Date().toISOString(),
    });
  }

  async delete(version: string): Promise<void> {
    const tx = this.#db.transaction(['models', 'meta'], 'readwrite');
    await tx.objectStore('models').delete(version);
    await tx.objectStore('meta').delete(cardKey(version));
    await tx.done;
  }

  async versions(): Promise<string[]> {
    return this.#db.getAllKeys('models');
  }

  async pointers(): Promise<ModelPointers> {
    const p = (await this.#db.get('meta', POINTERS_KEY)) as ModelPointers | undefined;
    return p ?? NO_POINTERS;
  }

  async setPointers(p: ModelPointers): Promise<void> {
    await this.#db.put('meta', p, POINTERS_KEY);
  }

  /** The active version's manifest and files, if an update is active (otherwise the bundled model runs). */
  async active(): Promise<StoredModel | undefined> {
    const p = await this.pointers();
    return p.active ? this.get(p.active) : undefined;
  }

  /** A model card (card.json) kept for a version so "About this model" works offline. */
  async getCard(version: string): Promise<unknown> {
    return this.#db.get('meta', cardKey(version));
  }

  async putCard(version: string, card: unknown): Promise<void> {
    await this.#db.put('meta', card, cardKey(version));
  }

  /** Any other value this module keeps (e.g. the last assignment). */
  async getMeta<T>(key: string): Promise<T | undefined> {
    return (await this.#db.get('meta', key)) as T | undefined;
  }

  async putMeta(key: string, value: unknown): Promise<void> {
    await this.#db.put('meta', value, key);
  }
}
