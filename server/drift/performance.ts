/**
 * Performance from outcomes (concept drift), matched to the prediction each
 * outcome judges: for a song id (the fingerprint only when the outcome has no
 * id), the latest log of that model version, in the chosen traffic kinds,
 * made on or before the outcome's chart date and at most `matchHorizonDays`
 * before it. A prediction made after the chart date never judges it, so
 * re-predicting a song later does not rewrite an earlier period. Outcomes
 * that match nothing are counted, with the reason.
 *
 * The unit is a song on a chart date. Reported, each with a 95 % bootstrap
 * interval over those units: macro ROC-AUC (per-country AUC averaged over the
 * countries with both classes, the manifest's definition), pooled ROC-AUC
 * (over every (song, country) pair) and top-5 hit (songs that charted
 * somewhere: did a charted country rank in the model's top 5). Too few units
 * give "too few outcomes" and no numbers.
 */
import { COUNTRY_CODES, countryIndex, type TrafficKind, trainingSongKey } from '../../model/contract/index.ts';
import { mulberry32 } from '../../model/runtime/prng.ts';
import { sortedRocAuc } from '../../model/stats/roc-auc.ts';
import type { Store } from '../store/store.ts';
import { decodeVector } from '../store/vectors.ts';
import { type DayWindow, daysBefore, type Granularity, periodOf } from './window.ts';

export interface OutcomeRow {
  songId: string | null;
  fingerprint: string | null;
  country: string;
  charted: boolean;
  date: string;
}

export interface Interval {
  value: number;
  lo: number;
  hi: number;
}

export interface PerformancePoint {
  period: string;
  /** (song, country) outcomes dated in the period. */
  outcomes: number;
  /** Of those, matched to a prediction. */
  matched: number;
  unmatched: number;
  /** Why outcomes did not match: no prediction of the song by this version (in these kinds), only predictions after the chart date, or only older than the horizon. */
  unmatchedReasons: { noPrediction: number; predictedAfter: number; tooOld: number };
  /** Songs (on a chart date) with a matched prediction. */
  songs: number;
  /** Of those, songs that charted in at least one covered country (the top-5 population). */
  songsCharted: number;
  /** Countries with both classes (the macro AUC's countries). */
  countries: number;
  enough: boolean;
  note: string | null;
  macroAuc: Interval | null;
  pooledAuc: Interval | null;
  top5Hit: Interval | null;
  /** The macro AUC value (kept for older dashboards and clients). */
  auc: number | null;
}

/** Outcomes dated in the window: device outcomes and stored rows, plus the ones derived from chart uploads. */
export async function loadOutcomes(store: Store, w: DayWindow): Promise<OutcomeRow[]> {
  const out = await storedOutcomes(store, w);
  for await (const o of chartOutcomes(store, w)) out.push(o);
  return out;
}

async function storedOutcomes(store: Store, w: DayWindow): Promise<OutcomeRow[]> {
  const rows = await store.db
    .selectFrom('outcomes')
    .select(['song_id', 'fingerprint', 'country', 'charted', 'date'])
    .where('date', '>=', w.from)
    .where('date', '<=', w.to)
    .execute();
  return rows.map((o) => ({
    songId: o.song_id,
    fingerprint: o.fingerprint,
    country: o.country,
    charted: o.charted === 1,
    date: o.date,
  }));
}

interface StoredChart {
  date: string;
  countries: string[];
  songs: string[];
  /** `song|country` of every entry. */
  entries: Set<string>;
}

/** The completely written charts dated in the window (or all of them). */
async function loadCharts(store: Store, w?: DayWindow): Promise<StoredChart[]> {
  const db = store.db;
  let q = db.selectFrom('chart_dates').select(['date', 'countries']).where('complete', '=', 1).orderBy('date');
  if (w) q = q.where('date', '>=', w.from).where('date', '<=', w.to);
  const out: StoredChart[] = [];
  for (const c of await q.execute()) {
    const songs = await db
      .selectFrom('chart_songs')
      .select('song_id')
      .where('date', '=', c.date)
      .orderBy('song_id')
      .execute();
    const entries = await db
      .selectFrom('chart_entries')
      .select(['song_id', 'country'])
      .where('date', '=', c.date)
      .execute();
    out.push({
      date: c.date,
      countries: JSON.parse(c.countries) as string[],
      songs: songs.map((s) => s.song_id),
      entries: new Set(entries.map((e) => `${e.song_id}|${e.country}`)),
    });
  }
  return out;
}

/**
 * The outcomes a chart upload stands for, derived at query time: every song of the chart × every country
 * the chart covers, charted when the (song, country) entry exists. Only completely written charts count.
 */
export async function* chartOutcomes(store: Store, w?: DayWindow): AsyncGenerator<OutcomeRow> {
  for (const c of await loadCharts(store, w))
    for (const song of c.songs)
      for (const country of c.countries)
        yield { songId: song, fingerprint: null, country, charted: c.entries.has(`${song}|${country}`), date: c.date };
}

interface Prediction {
  day: string;
  createdAt: string;
  outputs: number[];
}

/**
 * The predictions that can judge outcomes of these songs (or fingerprints): the latest of each day and traffic
 * kind, as ingest keeps them in `prediction_days` — the only ones `matchPrediction` can pick, since it takes the
 * latest in the window of days and needs the others only to know that one existed.
 */
async function predictionsFor(
  store: Store,
  version: string,
  column: 'song_id' | 'fingerprint',
  keys: readonly string[],
  kinds: ReadonlySet<TrafficKind>,
): Promise<Map<string, Prediction[]>> {
  const out = new Map<string, Prediction[]>();
  if (kinds.size === 0) return out;
  const prefix = column === 'song_id' ? 's:' : 'f:';
  for (let i = 0; i < keys.length; i += 500) {
    const rows = await store.db
      .selectFrom('prediction_days as d')
      .innerJoin('logs', 'logs.id', 'd.log_id')
      .select(['d.match_key', 'd.day', 'd.created_at', 'logs.outputs'])
      .where('d.model_version', '=', version)
      .where(
        'd.match_key',
        'in',
        keys.slice(i, i + 500).map((k) => prefix + k),
      )
      .where('d.kind', 'in', [...kinds])
      .execute();
    for (const r of rows) {
      const key = r.match_key.slice(prefix.length);
      const list = out.get(key) ?? [];
      list.push({ day: r.day, createdAt: r.created_at, outputs: decodeVector(r.outputs) });
      out.set(key, list);
    }
  }
  for (const list of out.values()) list.sort((a, b) => (a.createdAt < b.createdAt ? -1 : 1));
  return out;
}

type MatchResult = { outputs: number[] } | { reason: 'noPrediction' | 'predictedAfter' | 'tooOld' };

/** The latest prediction made on or before the chart date and within the horizon. */
export function matchPrediction(
  list: readonly Prediction[] | undefined,
  date: string,
  horizonDays: number,
): MatchResult {
  if (!list || list.length === 0) return { reason: 'noPrediction' };
  const earliest = daysBefore(date, horizonDays);
  let best: Prediction | undefined;
  let anyBefore = false;
  for (const p of list) {
    if (p.day > date) continue;
    anyBefore = true;
    if (p.day < earliest) continue;
    best = p; // sorted by time: the last one kept is the latest
  }
  if (best) return { outputs: best.outputs };
  return { reason: anyBefore ? 'tooOld' : 'predictedAfter' };
}

interface Unit {
  outputs: number[];
  /** Covered country indices and whether each charted. */
  countries: Map<number, boolean>;
}

interface Pairs {
  scores: Float64Array;
  labels: Uint8Array;
  units: Int32Array;
}

function sortedPairs(items: { s: number; l: boolean; u: number }[]): Pairs {
  items.sort((a, b) => a.s - b.s);
  return {
    scores: Float64Array.from(items, (x) => x.s),
    labels: Uint8Array.from(items, (x) => (x.l ? 1 : 0)),
    units: Int32Array.from(items, (x) => x.u),
  };
}

function top5(outputs: readonly number[]): Set<number> {
  const idx = outputs.map((_, i) => i);
  idx.sort((a, b) => (outputs[b] as number) - (outputs[a] as number) || a - b);
  return new Set(idx.slice(0, 5));
}

const BOOTSTRAP = 200;

/** Metrics of a set of units, each with a 95 % bootstrap interval (units resampled with replacement). */
export function unitMetrics(
  units: readonly Unit[],
  minSongs: number,
): Pick<
  PerformancePoint,
  'songs' | 'songsCharted' | 'countries' | 'enough' | 'note' | 'macroAuc' | 'pooledAuc' | 'top5Hit'
> {
  const pooled: { s: number; l: boolean; u: number }[] = [];
  const perCountry = COUNTRY_CODES.map(() => [] as { s: number; l: boolean; u: number }[]);
  const hit = new Uint8Array(units.length);
  const charted = new Uint8Array(units.length);
  units.forEach((u, k) => {
    const top = top5(u.outputs);
    for (const [c, y] of u.countries) {
      const item = { s: u.outputs[c] as number, l: y, u: k };
      pooled.push(item);
      perCountry[c]?.push(item);
      if (y) {
        charted[k] = 1;
        if (top.has(c)) hit[k] = 1;
      }
    }
  });
  const pooledPairs = sortedPairs(pooled);
  const countryPairs = perCountry.filter((l) => l.some((x) => x.l) && l.some((x) => !x.l)).map(sortedPairs);
  const songsCharted = charted.reduce((a, b) => a + b, 0);
  const base = { songs: units.length, songsCharted, countries: countryPairs.length };
  if (songsCharted < minSongs || countryPairs.length < 2) {
    return {
      ...base,
      enough: false,
      note: `too few outcomes: ${songsCharted} songs that charted somewhere and ${countryPairs.length} countries with both classes (${minSongs} songs and 2 countries needed)`,
      macroAuc: null,
      pooledAuc: null,
      top5Hit: null,
    };
  }
  const compute = (w: Float64Array) => {
    const aucs = countryPairs.map((p) => sortedRocAuc(p.scores, p.labels, p.units, w)).filter((a) => a !== null);
    let h = 0;
    let c = 0;
    for (let k = 0; k < units.length; k++) {
      if (!charted[k]) continue;
      c += w[k] as number;
      h += (w[k] as number) * (hit[k] as number);
    }
    return {
      macro: aucs.length > 0 ? aucs.reduce((a, b) => a + b, 0) / aucs.length : Number.NaN,
      pooled: sortedRocAuc(pooledPairs.scores, pooledPairs.labels, pooledPairs.units, w) ?? Number.NaN,
      top5: c > 0 ? h / c : Number.NaN,
    };
  };
  const point = compute(new Float64Array(units.length).fill(1));
  const random = mulberry32(units.length * 7919 + pooled.length);
  const boots = { macro: [] as number[], pooled: [] as number[], top5: [] as number[] };
  for (let b = 0; b < BOOTSTRAP; b++) {
    const w = new Float64Array(units.length);
    for (let k = 0; k < units.length; k++) {
      const pick = Math.floor(random() * units.length);
      w[pick] = (w[pick] as number) + 1;
    }
    const m = compute(w);
    if (Number.isFinite(m.macro)) boots.macro.push(m.macro);
    if (Number.isFinite(m.pooled)) boots.pooled.push(m.pooled);
    if (Number.isFinite(m.top5)) boots.top5.push(m.top5);
  }
  const interval = (value: number, xs: number[]): Interval => {
    xs.sort((a, b) => a - b);
    const q = (p: number) => xs[Math.min(xs.length - 1, Math.max(0, Math.floor(p * xs.length)))] ?? value;
    return { value, lo: Math.min(value, q(0.025)), hi: Math.max(value, q(0.975)) };
  };
  return {
    ...base,
    enough: true,
    note: null,
    macroAuc: interval(point.macro, boots.macro),
    pooledAuc: interval(point.pooled, boots.pooled),
    top5Hit: interval(point.top5, boots.top5),
  };
}

export interface PerformanceOptions {
  kinds: readonly TrafficKind[];
  horizonDays: number;
  minSongs: number;
  /**
   * Songs to leave out, as `trainingSongKey` hashes: the model's training songs (`lineage.trainingSongs`),
   * so the alert judges songs the model did not learn from, like the manifest's test-split figure.
   */
  excludeSongKeys?: ReadonlySet<string>;
}

// Song id → trainingSongKey; bounded, it only saves hashing.
const songKeyCache = new Map<string, string>();
async function excludedSongs(ids: readonly string[], keys: ReadonlySet<string>): Promise<Set<string>> {
  const out = new Set<string>();
  for (const id of ids) {
    let k = songKeyCache.get(id);
    if (k === undefined) {
      k = await trainingSongKey(id);
      if (songKeyCache.size > 200_000) songKeyCache.clear();
      songKeyCache.set(id, k);
    }
    if (keys.has(k)) out.add(id);
  }
  return out;
}

/** Performance per period (or over the whole window with `g` = null) for one model version. */
export async function performance(
  store: Store,
  version: string,
  w: DayWindow,
  g: Granularity | null,
  o: PerformanceOptions,
): Promise<PerformancePoint[]> {
  // Stored outcomes one by one; chart uploads per song (one match per song and date, its countries at once),
  // so a 20,000-song chart never becomes 1.4 million objects.
  const stored = await storedOutcomes(store, w);
  const charts = await loadCharts(store, w);
  if (stored.length === 0 && charts.length === 0) return [];
  const kinds = new Set(o.kinds);
  const songIds = [
    ...new Set([...stored.flatMap((x) => (x.songId ? [x.songId] : [])), ...charts.flatMap((c) => c.songs)]),
  ];
  const fps = [...new Set(stored.flatMap((x) => (!x.songId && x.fingerprint ? [x.fingerprint] : [])))];
  const trained = o.excludeSongKeys ? await excludedSongs(songIds, o.excludeSongKeys) : new Set<string>();
  const bySong = await predictionsFor(store, version, 'song_id', songIds, kinds);
  const byFp = await predictionsFor(store, version, 'fingerprint', fps, kinds);
  interface Acc {
    outcomes: number;
    matched: number;
    reasons: PerformancePoint['unmatchedReasons'];
    units: Map<string, Unit>;
  }
  const acc = new Map<string, Acc>();
  const accOf = (date: string) => {
    const period = g ? periodOf(date, g) : w.from;
    let a = acc.get(period);
    if (!a) {
      a = { outcomes: 0, matched: 0, reasons: { noPrediction: 0, predictedAfter: 0, tooOld: 0 }, units: new Map() };
      acc.set(period, a);
    }
    return a;
  };
  const unitOf = (a: Acc, key: string, outputs: number[]) => {
    let u = a.units.get(key);
    if (!u) {
      u = { outputs, countries: new Map() };
      a.units.set(key, u);
    }
    return u;
  };
  for (const x of stored) {
    if (x.songId && trained.has(x.songId)) continue;
    const a = accOf(x.date);
    a.outcomes++;
    const c = countryIndex(x.country);
    const list = x.songId ? bySong.get(x.songId) : x.fingerprint ? byFp.get(x.fingerprint) : undefined;
    const m = matchPrediction(list, x.date, o.horizonDays);
    if ('reason' in m) {
      a.reasons[m.reason]++;
      continue;
    }
    if (c < 0) continue;
    a.matched++;
    const u = unitOf(a, `${x.songId ? `s:${x.songId}` : `f:${x.fingerprint}`}|${x.date}`, m.outputs);
    // A song's outcome for a country on a date is stated once; a repeat keeps "charted" if any says so.
    u.countries.set(c, (u.countries.get(c) ?? false) || x.charted);
  }
  for (const chart of charts) {
    const a = accOf(chart.date);
    const cs = chart.countries.map(countryIndex).filter((c) => c >= 0);
    for (const song of chart.songs) {
      if (trained.has(song)) continue;
      a.outcomes += cs.length;
      const m = matchPrediction(bySong.get(song), chart.date, o.horizonDays);
      if ('reason' in m) {
        a.reasons[m.reason] += cs.length;
        continue;
      }
      a.matched += cs.length;
      const u = unitOf(a, `s:${song}|${chart.date}`, m.outputs);
      for (const c of cs) {
        const y = chart.entries.has(`${song}|${COUNTRY_CODES[c]}`);
        u.countries.set(c, (u.countries.get(c) ?? false) || y);
      }
    }
  }
  return [...acc]
    .sort((x, y) => (x[0] < y[0] ? -1 : 1))
    .map(([period, a]) => {
      const m = unitMetrics([...a.units.values()], o.minSongs);
      return {
        period,
        outcomes: a.outcomes,
        matched: a.matched,
        unmatched: a.outcomes - a.matched,
        unmatchedReasons: a.reasons,
        ...m,
        auc: m.macroAuc?.value ?? null,
      };
    });
}
