/**
 * Ground-truth outcomes: device batches (idempotent by id) and an admin's
 * chart CSV in the Kaggle schema, which becomes one outcome per (song,
 * country) it covers: charted = the song appears in that country's rows.
 */
import { createHash } from 'node:crypto';
import Papa from 'papaparse';
import { isCalendarDate, isCountryCode, type Outcome, type OutcomeBatchRequest } from '../../model/contract/index.ts';
import { ApiError } from '../http/errors.ts';
import type { OutcomesTable } from '../store/schema.ts';
import type { Store } from '../store/store.ts';

/** A deterministic UUID (version 8, RFC 9562 custom) from a name: the same chart row always gets the same id. */
export function nameUuid(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  const variant = ((Number.parseInt(h[16] as string, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export class OutcomeIngest {
  constructor(private readonly store: Store) {}

  private async insert(rows: OutcomesTable[]): Promise<Set<string>> {
    const inserted = new Set<string>();
    await this.store.db.transaction().execute(async (tx) => {
      for (let i = 0; i < rows.length; i += 500) {
        const r = await tx
          .insertInto('outcomes')
          .values(rows.slice(i, i + 500))
          .onConflict((oc) => oc.column('id').doNothing())
          .returning('id')
          .execute();
        for (const x of r) inserted.add(x.id);
      }
    });
    return inserted;
  }

  async ingest(
    batch: OutcomeBatchRequest['outcomes'],
    deviceId: string | null,
  ): Promise<{ stored: string[]; duplicates: string[] }> {
    if (deviceId !== null) {
      const bad = batch.flatMap((o, index) =>
        (o.deviceId ?? deviceId) !== deviceId || o.source !== 'device' ? [{ index, id: o.id }] : [],
      );
      if (bad.length > 0)
        throw new ApiError('forbidden', { problem: 'outcomes for another device or source', items: bad });
    }
    const now = new Date().toISOString();
    const seen = new Set<string>();
    const rows: OutcomesTable[] = [];
    for (const o of batch as Outcome[]) {
      if (seen.has(o.id)) continue;
      seen.add(o.id);
      rows.push({
        id: o.id,
        song_id: o.song.songId ?? null,
        fingerprint: o.song.fingerprint ?? null,
        country: o.country,
        charted: o.charted ? 1 : 0,
        date: o.date,
        source: o.source,
        device_id: o.deviceId ?? deviceId,
        recorded_at: o.recordedAt,
        received_at: now,
      });
    }
    const inserted = await this.insert(rows);
    const stored = rows.map((r) => r.id);
    return { stored, duplicates: stored.filter((id) => !inserted.has(id)) };
  }

  /**
   * Kaggle chart CSV (spotify_id, country, optional snapshot_date, …). The
   * outcomes are dated by `date`, else the latest snapshot_date in the file.
   */
  async ingestChartCsv(
    text: string,
    date: string | undefined,
  ): Promise<{ outcomes: number; stored: number; songs: number; countries: number; date: string }> {
    if (text.trim() === '') throw new ApiError('file-empty');
    const parsed = Papa.parse<Record<string, string>>(text, { header: true, skipEmptyLines: 'greedy' });
    const fields = parsed.meta.fields ?? [];
    const missing = ['spotify_id', 'country'].filter((f) => !fields.includes(f));
    if (missing.length > 0) throw new ApiError('csv-missing-column', { missing });
    const charted = new Map<string, Set<string>>();
    const songs = new Set<string>();
    let latest = '';
    for (const row of parsed.data) {
      const id = row.spotify_id?.trim();
      if (!id) continue;
      songs.add(id);
      const snap = row.snapshot_date?.slice(0, 10) ?? '';
      if (isCalendarDate(snap) && snap > latest) latest = snap; // 9999-99-99 would date every outcome
      const c = row.country?.trim() ?? '';
      if (!isCountryCode(c)) continue; // the global chart (empty country) is not an output
      let set = charted.get(c);
      if (!set) {
        set = new Set();
        charted.set(c, set);
      }
      set.add(id);
    }
    if (songs.size === 0) throw new ApiError('no-usable-rows', undefined, { status: 400 });
    const day = date ?? (latest || new Date().toISOString().slice(0, 10));
    const now = new Date().toISOString();
    const rows: OutcomesTable[] = [];
    for (const [country, set] of charted) {
      for (const song of songs) {
        rows.push({
          id: nameUuid(`chart|${song}|${country}|${day}`),
          song_id: song,
          fingerprint: null,
          country,
          charted: set.has(song) ? 1 : 0,
          date: day,
          source: 'chart-upload',
          device_id: null,
          recorded_at: now,
          received_at: now,
        });
      }
    }
    const inserted = await this.insert(rows);
    return { outcomes: rows.length, stored: inserted.size, songs: songs.size, countries: charted.size, date: day };
  }
}
