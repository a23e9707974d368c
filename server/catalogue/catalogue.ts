/**
 * The song catalogue devices download to prefill the form: loaded from a CSV
 * (the file given at start, or an admin upload) into the store, served as
 * `CatalogueSchema` JSON with an ETag. The serialised body is cached in
 * memory, rebuilt when this instance changes the catalogue and at most 10 s
 * after another instance sharing the store did.
 */
import { createHash } from 'node:crypto';
import Papa from 'papaparse';
import { type CatalogueSong, FEATURE_NAMES, type Features, parseFeatures } from '../../model/contract/index.ts';
import { DomainError } from '../domain-error.ts';
import type { Store } from '../store/store.ts';

export interface ParsedCatalogue {
  songs: CatalogueSong[];
  rejected: { line: number; errors: { field: string; code: string }[] }[];
}

/** Catalogue CSV (spotify_id|id, name, artists + the 13 features). Rows with bad features are reported, not kept. */
export function parseCatalogueCsv(text: string): ParsedCatalogue {
  if (text.trim() === '') throw new DomainError('file-empty');
  const parsed = Papa.parse<Record<string, string>>(text, { header: true, skipEmptyLines: 'greedy' });
  const fields = parsed.meta.fields ?? [];
  const idCol = ['spotify_id', 'id', 'song_id'].find((c) => fields.includes(c));
  const missing = [...(idCol ? [] : ['spotify_id']), ...FEATURE_NAMES.filter((f) => !fields.includes(f))];
  if (missing.length > 0) throw new DomainError('csv-missing-column', { missing });
  const songs: CatalogueSong[] = [];
  const rejected: ParsedCatalogue['rejected'] = [];
  const seen = new Set<string>();
  parsed.data.forEach((row, i) => {
    const id = row[idCol as string]?.trim() ?? '';
    const f = parseFeatures(row);
    if (!f.ok || id === '' || id.length > 64) {
      rejected.push({
        line: i + 2,
        errors: f.ok
          ? [{ field: 'id', code: 'invalid-value' }]
          : f.errors.map((e) => ({ field: e.field, code: e.code })),
      });
      return;
    }
    if (seen.has(id)) return;
    seen.add(id);
    songs.push({ id, name: row.name ?? '', artists: row.artists ?? '', features: f.value });
  });
  if (songs.length === 0) throw new DomainError('no-usable-rows', { rejected: rejected.slice(0, 20) });
  return { songs, rejected };
}

/** Several instances may share one store: a cached body is rebuilt after this long, so an upload elsewhere shows up. */
const CACHE_MS = 10_000;

export class CatalogueService {
  private body: { json: string; etag: string; count: number; at: number } | null = null;
  constructor(private readonly store: Store) {}

  async replace(songs: readonly CatalogueSong[]): Promise<void> {
    await this.store.db.transaction().execute(async (tx) => {
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
    this.body = null;
  }

  async count(): Promise<number> {
    const r = await this.store.db
      .selectFrom('catalogue')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** The serialised catalogue and its ETag (version = first 12 hex of the body's sha256 over the songs). */
  async serialised(): Promise<{ json: string; etag: string; count: number }> {
    if (this.body && Date.now() - this.body.at < CACHE_MS) return this.body;
    const rows = await this.store.db.selectFrom('catalogue').selectAll().orderBy('id').execute();
    const songs = rows.map((r) => ({
      id: r.id,
      name: r.name,
      artists: r.artists,
      features: JSON.parse(r.features) as Features,
    }));
    const songsJson = JSON.stringify(songs);
    const version = createHash('sha256').update(songsJson).digest('hex').slice(0, 12);
    this.body = {
      json: `{"version":"${version}","songs":${songsJson}}`,
      etag: `"${version}"`,
      count: songs.length,
      at: Date.now(),
    };
    return this.body;
  }
}
