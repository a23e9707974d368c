/**
 * Ground-truth outcomes: device batches (idempotent by id) and an admin's
 * chart CSV in the Kaggle schema, stored as the chart (songs, countries,
 * entries); it stands for one outcome per (song, country) it covers:
 * charted = the song appears in that country's rows.
 */
import { createHash } from 'node:crypto';
import Papa from 'papaparse';
import { isCalendarDate, isCountryCode, type Outcome, type OutcomeBatchRequest } from '../../model/contract/index.ts';
import { DomainError } from '../domain-error.ts';
import { type ChartEntry, chartWriter } from '../store/chart-writer.ts';
import type { OutcomesTable } from '../store/schema.ts';
import type { Store } from '../store/store.ts';
import type { DeviceFirst } from './device-first.ts';

/** A deterministic UUID (version 8, RFC 9562 custom) from a name: the same chart row always gets the same id. */
export function nameUuid(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  const variant = ((Number.parseInt(h[16] as string, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export class OutcomeIngest {
  readonly #store: Store;
  readonly #deviceFirst: DeviceFirst | null;
  /** `deviceFirst`: a chart upload waits for device batches between its steps (none: it only yields). */
  constructor(store: Store, deviceFirst: DeviceFirst | null = null) {
    this.#store = store;
    this.#deviceFirst = deviceFirst;
  }

  /** Between two steps of a chart upload: device batches first. */
  #turn(): Promise<void> {
    return this.#deviceFirst ? this.#deviceFirst.turn() : new Promise<void>((r) => setImmediate(r));
  }

  async #insert(rows: OutcomesTable[]): Promise<Set<string>> {
    const inserted = new Set<string>();
    await this.#store.db.transaction().execute(async (tx) => {
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
        throw new DomainError('forbidden', { problem: 'outcomes for another device or source', items: bad });
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
    const inserted = await this.#insert(rows);
    const stored = rows.map((r) => r.id);
    return { stored, duplicates: stored.filter((id) => !inserted.has(id)) };
  }

  /**
   * Kaggle chart CSV (spotify_id, country, optional snapshot_date, …), stored as the chart: which songs it
   * lists, which countries it covers, and who charted where, dated by `date`, else the latest
   * snapshot_date in the file. The "did not chart" outcomes (every song × every covered country without
   * an entry) are derived when read (`drift/performance.ts`), so a 20,000-song chart writes 20,000 song
   * rows and its entries instead of 1.4 million outcomes. Parsing and writing go in bounded steps, and
   * between steps device batches go first (`device-first.ts`), so device ingest is never stalled behind an upload. Uploading
   * the same date again adds to it (idempotent); the chart counts only once completely written.
   */
  async ingestChartCsv(
    text: string,
    date: string | undefined,
  ): Promise<{ outcomes: number; stored: number; songs: number; countries: number; date: string }> {
    if (text.trim() === '') throw new DomainError('file-empty');
    const charted = new Map<string, Set<string>>();
    const songs = new Set<string>();
    let latest = '';
    let fields: string[] | null = null;
    for (const block of csvBlocks(text)) {
      const parsed = Papa.parse<Record<string, string>>(block, { header: true, skipEmptyLines: 'greedy' });
      if (fields === null) {
        fields = parsed.meta.fields ?? [];
        const missing = ['spotify_id', 'country'].filter((f) => !(fields as string[]).includes(f));
        if (missing.length > 0) throw new DomainError('csv-missing-column', { missing });
      }
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
      await this.#turn();
    }
    if (songs.size === 0) throw new DomainError('no-usable-rows');
    const day = date ?? (latest || new Date().toISOString().slice(0, 10));
    const now = new Date().toISOString();
    const db = this.#store.db;
    const before = await this.#chartSize(day);
    const countries = [...new Set([...before.countries, ...charted.keys()])].sort();
    await db
      .insertInto('chart_dates')
      .values({ date: day, countries: JSON.stringify(countries), complete: 0, uploaded_at: now })
      .onConflict((oc) => oc.column('date').doUpdateSet({ countries: JSON.stringify(countries), complete: 0 }))
      .execute();
    const writer = chartWriter(this.#store);
    const songIds = [...songs];
    for (let i = 0; i < songIds.length; i += CHART_CHUNK) {
      await writer.insertSongs(day, songIds.slice(i, i + CHART_CHUNK));
      await this.#turn();
    }
    for (const part of entryChunks(charted, ENTRY_CHUNK)) {
      await writer.insertEntries(day, part);
      await this.#turn();
    }
    // Committed under the store's own durability, after the unsynced steps above: the log's sync (inside this
    // commit with FULL, before the answer with GROUP) makes the whole upload durable before it is answered.
    await db.updateTable('chart_dates').set({ complete: 1, uploaded_at: now }).where('date', '=', day).execute();
    const after = await this.#chartSize(day);
    return {
      outcomes: songs.size * charted.size,
      stored: after.outcomes - before.outcomes,
      songs: songs.size,
      countries: charted.size,
      date: day,
    };
  }

  /** Outcomes a stored chart stands for (songs × countries); 0 when there is none for the date. */
  async #chartSize(day: string): Promise<{ outcomes: number; countries: string[] }> {
    const db = this.#store.db;
    const row = await db.selectFrom('chart_dates').select('countries').where('date', '=', day).executeTakeFirst();
    if (!row) return { outcomes: 0, countries: [] };
    const countries = JSON.parse(row.countries) as string[];
    const n = await db
      .selectFrom('chart_songs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('date', '=', day)
      .executeTakeFirstOrThrow();
    return { outcomes: Number(n.n) * countries.length, countries };
  }
}

/**
 * Rows per step: each step is its own short transaction of ~3 ms on SQLite (an entry costs ~3× a song: its key
 * lands at a random place in the (date, song, country) index), so a device batch waits behind one at most.
 */
const CHART_CHUNK = 500;
const ENTRY_CHUNK = 200;

/** Who charted where, `size` at a time (all 60,000 entries of a large chart at once took ~12 ms in one go). */
function* entryChunks(charted: ReadonlyMap<string, ReadonlySet<string>>, size: number): Generator<ChartEntry[]> {
  let part: ChartEntry[] = [];
  for (const [country, set] of charted) {
    for (const songId of set) {
      part.push({ songId, country });
      if (part.length === size) {
        yield part;
        part = [];
      }
    }
  }
  if (part.length > 0) yield part;
}

/**
 * The CSV in blocks of about 16 KiB (a few ms to parse), each with the header line, cut only at a line end outside quotes, so
 * parsing a large file yields to other requests between blocks.
 */
export function* csvBlocks(text: string, size = 16 * 1024): Generator<string> {
  const headerEnd = text.indexOf('\n');
  if (headerEnd < 0) {
    yield text;
    return;
  }
  const header = text.slice(0, headerEnd + 1);
  let start = headerEnd + 1;
  let quoted = false;
  let i = start;
  while (start < text.length) {
    const target = Math.min(text.length, start + size);
    let cut = -1;
    for (; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      if (ch === 34) quoted = !quoted;
      else if (ch === 10 && !quoted && i >= target - 1) {
        cut = i + 1;
        i++;
        break;
      }
    }
    const end = cut < 0 ? text.length : cut;
    yield header + text.slice(start, end);
    start = end;
  }
}
