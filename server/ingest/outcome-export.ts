/**
 * The admin export of ground truth for retraining: every outcome (optionally
 * since a date) with the song's 13 raw features joined from the catalogue
 * (by song id) or, for songs the catalogue lacks, from the inputs a device
 * logged for it (by song id, then by feature fingerprint). NDJSON, one
 * outcome per line, read in pages so a large store is never held in memory.
 */
import { type ExportedOutcome, type Features, type FeatureVector, toVector } from '../../model/contract/index.ts';
import { chartOutcomes } from '../drift/performance.ts';
import type { OutcomesTable } from '../store/schema.ts';
import type { Store } from '../store/store.ts';
import { decodeVector } from '../store/vectors.ts';

import { nameUuid } from './outcome-ingest.ts';

export type { ExportedOutcome };

const PAGE = 2000;

/** The outcome columns an export reads. */
type Row = Pick<OutcomesTable, 'id' | 'song_id' | 'fingerprint' | 'country' | 'charted' | 'date' | 'source'>;

export async function* exportOutcomes(store: Store, since?: string): AsyncGenerator<ExportedOutcome[]> {
  const db = store.db;
  let after = '';
  for (;;) {
    let q = db
      .selectFrom('outcomes')
      .select(['id', 'song_id', 'fingerprint', 'country', 'charted', 'date', 'source'])
      .where('id', '>', after)
      .orderBy('id')
      .limit(PAGE);
    if (since) q = q.where('date', '>=', since);
    const rows = await q.execute();
    if (rows.length === 0) break;
    after = rows[rows.length - 1]?.id as string;
    yield await withFeatures(store, rows);
    if (rows.length < PAGE) break;
  }
  // Chart uploads are stored as charts; their outcomes (with the same ids they always had) are derived here.
  let page: Row[] = [];
  const w = since ? { from: since, to: '9999-12-31' } : undefined;
  for await (const o of chartOutcomes(store, w)) {
    page.push({
      id: nameUuid(`chart|${o.songId}|${o.country}|${o.date}`),
      song_id: o.songId,
      fingerprint: null,
      country: o.country,
      charted: o.charted ? 1 : 0,
      date: o.date,
      source: 'chart-upload',
    });
    if (page.length >= PAGE) {
      yield await withFeatures(store, page);
      page = [];
    }
  }
  if (page.length > 0) yield await withFeatures(store, page);
}

async function withFeatures(store: Store, rows: readonly Row[]): Promise<ExportedOutcome[]> {
  const db = store.db;
  const songIds = [...new Set(rows.map((r) => r.song_id).filter((s): s is string => s !== null))];
  const bySong = new Map<string, FeatureVector>();
  if (songIds.length > 0) {
    const cat = await db.selectFrom('catalogue').select(['id', 'features']).where('id', 'in', songIds).execute();
    for (const c of cat) bySong.set(c.id, toVector(JSON.parse(c.features) as Features));
    const missing = songIds.filter((s) => !bySong.has(s));
    if (missing.length > 0) {
      const logged = await db
        .selectFrom('logs')
        .select(['song_id', 'inputs'])
        .where('song_id', 'in', missing)
        .execute();
      for (const l of logged) if (l.song_id && !bySong.has(l.song_id)) bySong.set(l.song_id, decodeVector(l.inputs));
    }
  }
  const fps = [
    ...new Set(
      rows.filter((r) => r.fingerprint && !(r.song_id && bySong.has(r.song_id))).map((r) => r.fingerprint as string),
    ),
  ];
  const byFp = new Map<string, FeatureVector>();
  if (fps.length > 0) {
    const logged = await db
      .selectFrom('logs')
      .select(['fingerprint', 'inputs'])
      .where('fingerprint', 'in', fps)
      .execute();
    for (const l of logged) if (!byFp.has(l.fingerprint)) byFp.set(l.fingerprint, decodeVector(l.inputs));
  }
  return rows.map((r) => ({
    id: r.id,
    songId: r.song_id,
    fingerprint: r.fingerprint,
    // Stored only after OutcomeSchema validated them at ingest.
    country: r.country as ExportedOutcome['country'],
    charted: r.charted === 1,
    date: r.date,
    source: r.source as ExportedOutcome['source'],
    features:
      (r.song_id ? bySong.get(r.song_id) : undefined) ?? (r.fingerprint ? byFp.get(r.fingerprint) : undefined) ?? null,
  }));
}
