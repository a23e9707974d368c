/**
 * The monitoring replay on real data: the songs of charts-2023.csv that the
 * replay's model did not train on (its test split, found by re-running the
 * pipeline's split with the manifest's seed and shares), predicted by that
 * model (the shipped default's held-out twin, see MODEL_DIR) and sent through the HTTP API the way devices send them:
 * three devices over two weeks, songs predicted on several days, some by
 * several devices, a whole-catalogue batch from one device, then the charts
 * uploaded as chart CSVs. An offline computation from the same logs and
 * outcomes (the pipeline's own metric functions) is returned beside the
 * server's answers. Used by test/integration/replay.test.ts and
 * `npm run replay`.
 */
import { readFileSync } from 'node:fs';
import Papa from 'papaparse';
import { uuidv7 } from 'uuidv7';
import {
  COUNTRY_CODES,
  fromVector,
  type Manifest,
  ManifestSchema,
  type PredictionLog,
  toVector,
} from '../../model/contract/index.ts';
import { ingestFiles } from '../../model/pipeline/ingest.ts';
import { topK } from '../../model/pipeline/metrics.ts';
import { mulberry32, shuffleInPlace } from '../../model/pipeline/prng.ts';
import { splitBySong } from '../../model/pipeline/split.ts';
import { buildTargets } from '../../model/pipeline/targets.ts';
import { validateTables } from '../../model/pipeline/validate.ts';
import { type DenseWeights, parseModelFiles, predictReference } from '../../model/runtime/dense-model.ts';
import { requireSharedDataFile } from '../../model/shared-data.ts';
import { rocAuc } from '../../model/stats/roc-auc.ts';
import { catalogueSongs } from '../../server/testing/fixtures.ts';
import { createTestServer, type TestServer } from '../../server/testing/harness.ts';

// The replay needs a model that has not seen the songs it replays. The shipped default is refit on every song of
// charts-2023.csv (model/pipeline: cross-validation, then a refit on all songs), so the replay serves its held-out
// twin instead: the same recipe trained on the train + validation songs of the same seed (v3af3faf33b01, the
// previous default), whose manifest figures are on exactly the test songs replayed here.
const MODEL_DIR = new URL('./heldout-model/', import.meta.url);

export interface RealSong {
  id: string;
  x: number[];
  /** Countries it charted in (COUNTRY_CODES indices). */
  y: number[];
}

export interface RealData {
  manifest: Manifest;
  weights: DenseWeights;
  files: Record<string, Uint8Array>;
  /** The default model's held-out test songs. */
  test: RealSong[];
  /** Raw chart CSV lines (with the header) per song id. */
  header: string;
  lines: Map<string, string[]>;
}

let cached: RealData | undefined;

/** The default model, and the charts-2023.csv songs it did not train on (the pipeline's split, same seed). */
export async function loadRealData(): Promise<RealData> {
  if (cached) return cached;
  const manifest = ManifestSchema.parse(JSON.parse(readFileSync(new URL('manifest.json', MODEL_DIR), 'utf8')));
  const files: Record<string, Uint8Array> = {};
  for (const f of manifest.files) files[f.path] = new Uint8Array(readFileSync(new URL(f.path, MODEL_DIR)));
  const parsed = parseModelFiles(files);
  if (!parsed.ok) throw new Error(`default model does not load: ${JSON.stringify(parsed)}`);
  const csvPath = requireSharedDataFile('charts-2023.csv');
  const ing = await ingestFiles([csvPath]);
  if (!ing.ok) throw new Error('charts-2023.csv does not ingest');
  const v = validateTables(ing.tables);
  if (!v.ok) throw new Error('charts-2023.csv does not validate');
  const p = manifest.lineage.parameters as { seed?: number; validationShare: number; testShare: number };
  const split = splitBySong(buildTargets(v.rows).songs, {
    seed: p.seed ?? manifest.lineage.seed,
    validationShare: p.validationShare,
    testShare: p.testShare,
  });
  const test = split.test.map((s) => ({ id: s.id, x: [...s.x], y: [...s.y] }));
  const text = readFileSync(csvPath, 'utf8');
  const all = text.split('\n');
  const header = all[0] as string;
  const ids = new Set(test.map((s) => s.id));
  const lines = new Map<string, string[]>();
  for (const line of all.slice(1)) {
    const id = line.slice(0, line.indexOf(','));
    if (!ids.has(id)) continue;
    const list = lines.get(id) ?? [];
    list.push(line);
    lines.set(id, list);
  }
  cached = { manifest, weights: parsed.value, files, test, header, lines };
  return cached;
}

export function predict(data: RealData, x: readonly number[]): number[] {
  return Array.from(predictReference(data.weights, x), (v) => Math.min(1, Math.max(0, v)));
}

const DAY_MS = 86_400_000;
export const dayOf = (offset: number, today = new Date()) =>
  new Date(Date.parse(`${today.toISOString().slice(0, 10)}T00:00:00Z`) - offset * DAY_MS).toISOString().slice(0, 10);

export interface SentLog {
  songId: string | undefined;
  day: string;
  createdAt: string;
  outputs: number[];
  kind: 'interactive' | 'batch';
}

export interface Replay {
  server: TestServer;
  version: string;
  data: RealData;
  /** Every log sent, for the offline computation. */
  sent: SentLog[];
  /** Chart date → (song id → charted countries), and the countries each chart covers. */
  charts: Map<string, { songs: Map<string, Set<string>>; countries: Set<string> }>;
  songsA: RealSong[];
  songsB: RealSong[];
  /** Two songs sent with identical features (the second takes the first's inputs). */
  twins: [string, string];
  day: (offset: number) => string;
  tokens: Record<string, string>;
  send(device: string, logs: PredictionLog[]): Promise<void>;
}

export const DEVICES = ['field-1', 'field-2', 'field-3'];

export interface ReplayOptions {
  /** Shuffle which countries the later chart's songs charted in (accuracy falls while inputs stay). */
  worsen?: boolean;
  /** Send the whole catalogue as one device's batch (default true). */
  catalogueBatch?: boolean;
}

/**
 * Runs the scenario on a fresh in-process server. Timeline (days before today): songs A predicted on
 * days 13…8, their chart dated day 7; songs B predicted on days 6…1, their chart dated today; the whole
 * catalogue scored as a batch on day 2.
 */
export async function runReplay(o: ReplayOptions = {}): Promise<Replay> {
  const data = await loadRealData();
  const server = await createTestServer();
  const body = {
    manifest: data.manifest,
    files: Object.fromEntries(Object.entries(data.files).map(([p, d]) => [p, Buffer.from(d).toString('base64')])),
  };
  const admin = server.api();
  const pub = await admin.call('publishModel', { json: body });
  if (!pub.ok) throw new Error(`publish: ${pub.status} ${pub.code}: ${pub.message}`);
  const version = data.manifest.version;
  const promoted = await admin.call('promote', { params: { version } });
  if (!promoted.ok) throw new Error(`promote: ${promoted.status} ${promoted.code}: ${promoted.message}`);
  const tokens: Record<string, string> = {};
  for (const d of DEVICES) tokens[d] = await server.enroll(d);
  const sent: SentLog[] = [];
  const day = (k: number) => dayOf(k);
  const send = async (device: string, logs: PredictionLog[]) => {
    for (let i = 0; i < logs.length; i += 500) {
      const r = await server.api(tokens[device]).call('uploadLogs', { json: { logs: logs.slice(i, i + 500) } });
      if (!r.ok) throw new Error(`logs: ${r.status} ${r.code}: ${r.message} ${JSON.stringify(r.details)}`);
    }
  };
  const random = mulberry32(20261203);
  const songs = shuffleInPlace([...data.test], random);
  const half = Math.floor(songs.length / 2);
  const songsA = songs.slice(0, half);
  const songsB = songs.slice(half);
  const twins: [string, string] = [(songsA[0] as RealSong).id, (songsA[1] as RealSong).id];
  const inputsOf = (s: RealSong) => (s.id === twins[1] ? (songsA[0] as RealSong).x : s.x);

  const perDevice = new Map<string, PredictionLog[]>(DEVICES.map((d) => [d, []]));
  const logOf = (s: RealSong, device: string, k: number, x = inputsOf(s)): PredictionLog => {
    const outputs = predict(data, x);
    const hh = String(8 + Math.floor(random() * 10)).padStart(2, '0');
    const mm = String(Math.floor(random() * 60)).padStart(2, '0');
    const createdAt = `${day(k)}T${hh}:${mm}:00.000Z`;
    sent.push({ songId: s.id, day: day(k), createdAt, outputs, kind: 'interactive' });
    return {
      id: uuidv7(),
      deviceId: device,
      modelVersion: version,
      backend: 'simd',
      latencyMs: 0.1,
      createdAt,
      inputs: fromVector(x),
      outputs,
      source: 'catalogue',
      songId: s.id,
      traffic: 'interactive',
    };
  };
  // Realistic repetition: each song on 1–4 days of its period, 1–3 times a day, by its home device and
  // sometimes by another one.
  const schedule = (list: RealSong[], days: number[]) => {
    list.forEach((s, i) => {
      const home = DEVICES[i % DEVICES.length] as string;
      const nDays = 1 + Math.floor(random() * 4);
      const chosen = shuffleInPlace([...days], random).slice(0, nDays);
      for (const k of chosen) {
        const times = 1 + Math.floor(random() * 3);
        for (let t = 0; t < times; t++) {
          const device = random() < 0.3 ? (DEVICES[(i + 1 + t) % DEVICES.length] as string) : home;
          perDevice.get(device)?.push(logOf(s, device, k));
        }
      }
    });
  };
  schedule(songsA, [13, 12, 11, 10, 9, 8]);
  schedule(songsB, [6, 5, 4, 3, 2, 1]);
  for (const [d, logs] of perDevice) await send(d, logs);

  if (o.catalogueBatch ?? true) {
    // One marketer presses "Score the whole catalogue": a batch, on day 2, from one device.
    const cat = catalogueSongs();
    const logs: PredictionLog[] = cat.map((c) => {
      const x = toVector(c.features);
      const outputs = predict(data, x);
      const createdAt = `${day(2)}T12:00:00.000Z`;
      sent.push({ songId: c.id, day: day(2), createdAt, outputs, kind: 'batch' });
      return {
        id: uuidv7(),
        deviceId: 'field-1',
        modelVersion: version,
        backend: 'simd-threads',
        latencyMs: 0.004,
        createdAt,
        inputs: c.features,
        outputs,
        source: 'batch',
        songId: c.id,
        traffic: 'batch',
      };
    });
    await send('field-1', logs);
  }

  // The charts, uploaded as chart CSVs: A's real rows dated day 7, B's dated today (shuffled when worsening).
  const charts: Replay['charts'] = new Map();
  const upload = async (date: string, csv: string) => {
    const r = await admin.call('uploadChartCsv', {
      query: { date },
      encoded: { body: csv, headers: { 'content-type': 'text/csv' } },
    });
    if (!r.ok) throw new Error(`chart upload: ${r.status} ${r.code}: ${r.message}`);
  };
  const realCsv = (list: RealSong[]) => [data.header, ...list.flatMap((s) => data.lines.get(s.id) ?? [])].join('\n');
  const chartOf = (csv: string) => {
    const rows = Papa.parse<Record<string, string>>(csv, { header: true, skipEmptyLines: true }).data;
    const songsMap = new Map<string, Set<string>>();
    const countries = new Set<string>();
    for (const r of rows) {
      const id = r.spotify_id as string;
      const set = songsMap.get(id) ?? new Set<string>();
      songsMap.set(id, set);
      const c = r.country ?? '';
      if ((COUNTRY_CODES as readonly string[]).includes(c)) {
        set.add(c);
        countries.add(c);
      }
    }
    return { songs: songsMap, countries };
  };
  const csvA = realCsv(songsA);
  await upload(day(7), csvA);
  charts.set(day(7), chartOf(csvA));
  let csvB = realCsv(songsB);
  if (o.worsen) {
    // Same songs, same number of charting countries each, but which countries is shuffled between songs.
    const sets = songsB.map((s) => s.y.map((c) => COUNTRY_CODES[c] as string));
    const order = shuffleInPlace(
      sets.map((_, i) => i),
      random,
    );
    csvB = [
      'spotify_id,country',
      ...songsB.flatMap((s, i) => (sets[order[i] as number] as string[]).map((c) => `${s.id},${c}`)),
    ].join('\n');
  }
  await upload(day(0), csvB);
  charts.set(day(0), chartOf(csvB));
  return { server, version, data, sent, charts, songsA, songsB, twins, day, tokens, send };
}

export interface OfflineMetrics {
  songs: number;
  macroAuc: number;
  pooledAuc: number;
  top5Hit: number;
}

/**
 * The same numbers computed offline from what was sent: for each chart song, the latest interactive
 * prediction of its id made on or before the chart date (within 90 days), then the pipeline's rocAuc per
 * covered country (macro: mean over countries with both classes), over all pairs (pooled), and top-5.
 */
export function offlineMetrics(r: Replay, dates: readonly string[]): OfflineMetrics {
  const bySong = new Map<string, SentLog[]>();
  for (const l of r.sent) {
    if (l.kind !== 'interactive' || !l.songId) continue;
    const list = bySong.get(l.songId) ?? [];
    list.push(l);
    bySong.set(l.songId, list);
  }
  const units: { outputs: number[]; labels: Map<number, boolean> }[] = [];
  for (const date of dates) {
    const chart = r.charts.get(date);
    if (!chart) continue;
    const earliest = dayOf(0, new Date(Date.parse(`${date}T00:00:00Z`) - 90 * DAY_MS));
    for (const [song, charted] of chart.songs) {
      const candidates = (bySong.get(song) ?? []).filter((l) => l.day <= date && l.day >= earliest);
      if (candidates.length === 0) continue;
      const latest = candidates.reduce((a, b) => (b.createdAt > a.createdAt ? b : a));
      const labels = new Map<number, boolean>();
      for (const c of chart.countries) labels.set(COUNTRY_CODES.indexOf(c as never), charted.has(c));
      units.push({ outputs: latest.outputs, labels });
    }
  }
  const aucs: number[] = [];
  for (let c = 0; c < COUNTRY_CODES.length; c++) {
    const scores: number[] = [];
    const labels: number[] = [];
    for (const u of units) {
      const y = u.labels.get(c);
      if (y === undefined) continue;
      scores.push(u.outputs[c] as number);
      labels.push(y ? 1 : 0);
    }
    const a = rocAuc(scores, labels);
    if (a !== null) aucs.push(a);
  }
  const ps: number[] = [];
  const ys: number[] = [];
  let hits = 0;
  let charted = 0;
  for (const u of units) {
    for (const [c, y] of u.labels) {
      ps.push(u.outputs[c] as number);
      ys.push(y ? 1 : 0);
    }
    const pos = [...u.labels].filter(([, y]) => y).map(([c]) => c);
    if (pos.length === 0) continue;
    charted++;
    const top = topK(u.outputs, 0, COUNTRY_CODES.length, 5);
    if (pos.some((c) => top.includes(c))) hits++;
  }
  return {
    songs: units.length,
    macroAuc: aucs.reduce((a, b) => a + b, 0) / aucs.length,
    pooledAuc: rocAuc(ps, ys) ?? Number.NaN,
    top5Hit: hits / charted,
  };
}
