/**
 * The song catalogue devices download to prefill the form: loaded from a CSV
 * (the file given at start, or an admin upload) into the store, served as
 * `CatalogueSchema` JSON with an ETag. The serialised body is cached in
 * memory, rebuilt when this instance changes the catalogue and at most 10 s
 * after another instance sharing the store did.
 */
import { createHash } from 'node:crypto';
import { parseSongsCsv } from '../../model/catalogue/catalogue-csv.ts';
import type { CatalogueSong, Features } from '../../model/contract/index.ts';
import { DomainError } from '../domain-error.ts';
import type { Store } from '../store/store.ts';

export interface ParsedCatalogue {
  songs: CatalogueSong[];
  rejected: { line: number; errors: { field: string; code: string }[] }[];
}

/**
 * The catalogue CSV (`parseSongsCsv` with required ids: a row is joined to charts by its id), as the server
 * answers it: rows left out listed by line with their field codes; an unusable file thrown as a `DomainError`.
 */
export function parseCatalogueCsv(text: string): ParsedCatalogue {
  const parsed = parseSongsCsv(text, { ids: 'required' });
  if (!parsed.ok) {
    throw new DomainError(parsed.code, parsed.details);
  }
  const rejected = parsed.value.bad.map((b) => ({
    line: b.line,
    errors: [
      ...b.errors.map((e) => ({ field: e.field as string, code: e.code as string })),
      ...(b.badId === undefined ? [] : [{ field: 'id', code: 'invalid-value' }]),
    ],
  }));
  return { songs: parsed.value.songs, rejected };
}

/** Several instances may share one store: a cached body is rebuilt after this long, so an upload elsewhere shows up. */
const CACHE_MS = 10_000;

export class CatalogueService {
  #body: { json: string; etag: string; count: number; at: number } | null = null;
  readonly #store: Store;
  constructor(store: Store) {
    this.#store = store;
  }

  async replace(songs: readonly CatalogueSong[]): Promise<void> {
    await this.#store.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('catalogue').execute();
      for (let i = 0; i < songs.length; i += 500) {
        await tx
          .insertInto('catalogue')
          .values(
            songs
              .slice(i, i + 500)
              .map((s) => ({ id: s.id, name: s.name, artists: s.artists, features: JSON.stringify(s.features) })),
          )
          .execute();
      }
    });
    this.#body = null;
  }

  async count(): Promise<number> {
    const r = await this.#store.db
      .selectFrom('catalogue')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** The serialised catalogue and its ETag (version = first 12 hex of the body's sha256 over the songs). */
  async serialised(): Promise<{ json: string; etag: string; count: number }> {
    if (this.#body && Date.now() - this.#body.at < CACHE_MS) return this.#body;
    const rows = await this.#store.db.selectFrom('catalogue').selectAll().orderBy('id').execute();
    const songs = rows.map((r) => ({
      id: r.id,
      name: r.name,
      artists: r.artists,
      features: JSON.parse(r.features) as Features,
    }));
    const songsJson = JSON.stringify(songs);
    const version = createHash('sha256').update(songsJson).digest('hex').slice(0, 12);
    this.#body = {
      json: `{"version":"${version}","songs":${songsJson}}`,
      etag: `"${version}"`,
      count: songs.length,
      at: Date.now(),
    };
    return this.#body;
  }
}
