/**
 * Test and benchmark fixtures: songs from the real catalogue, a small
 * deterministic stand-in model (so outputs move when inputs move), a
 * reference profile built the way the pipeline documents it (quantile edges),
 * valid content-addressed manifests, and prediction logs.
 * Not used by the running server.
 */
import { uuidv7 } from 'uuidv7';
import { parseSongsCsv } from '../../model/catalogue/catalogue-csv.ts';
import {
  binIndex,
  COUNTRY_CODES,
  type CountryCode,
  contentVersion,
  FEATURE_NAMES,
  type Features,
  fromVector,
  type Manifest,
  ManifestSchema,
  outputEntropy,
  type PredictionLog,
  probabilitiesForLog,
  type ReferenceProfile,
  sha256Hex,
  toVector,
} from '../../model/contract/index.ts';
import { mulberry32 } from '../../model/runtime/prng.ts';
import { readSharedDataFile } from '../../model/shared-data.ts';

export interface Song {
  id: string;
  name: string;
  artists: string;
  features: Features;
}

let cached: Song[] | undefined;
/** All valid songs of the shared song catalogue (cached). */
export function catalogueSongs(): Song[] {
  if (cached) return cached;
  const parsed = parseSongsCsv(readSharedDataFile('song-catalog.csv'), { ids: 'required' });
  if (!parsed.ok) throw new Error(`song-catalog.csv: ${parsed.message}`, { cause: parsed });
  const out: Song[] = parsed.value.songs;
  cached = out;
  return out;
}

/** Deterministic PRNG so fixtures are reproducible. */
export const rng = mulberry32;

const SCALE = [1, 300_000, 1, 1, 11, 60, 1, 1, 1, 1, 1, 1, 250];
const W = (() => {
  const r = rng(7);
  return COUNTRY_CODES.map(() => FEATURE_NAMES.map(() => (r() - 0.5) * 6));
})();
const B = (() => {
  const r = rng(11);
  return COUNTRY_CODES.map(() => -2 - r() * 2);
})();

/** A stand-in for the real model: a fixed random logistic layer over scaled inputs. */
export function fakeModel(inputs: readonly number[]): number[] {
  return W.map((w, c) => {
    let z = B[c] as number;
    for (let f = 0; f < w.length; f++) z += (w[f] as number) * ((inputs[f] as number) / (SCALE[f] as number));
    return 1 / (1 + Math.exp(-z));
  });
}

function quantileEdges(values: number[], bins: number): number[] {
  const s = [...values].sort((a, b) => a - b);
  const edges: number[] = [];
  for (let q = 1; q < bins; q++) {
    const v = s[Math.min(s.length - 1, Math.floor((q / bins) * s.length))] as number;
    if (edges.length === 0 || v > (edges[edges.length - 1] as number)) edges.push(v);
  }
  return edges;
}

const CATEGORICAL: Record<string, number[]> = {
  is_explicit: [0.5],
  mode: [0.5],
  key: Array.from({ length: 12 }, (_, i) => i - 0.5),
};

/** Reference profile of these songs' inputs and outputs: decile edges for continuous features. */
export function buildReference(songs: readonly Features[], model = fakeModel): ReferenceProfile {
  const vectors = songs.map(toVector);
  const outputs = vectors.map(model);
  const features = FEATURE_NAMES.map((name, f) => {
    const col = vectors.map((v) => v[f] as number);
    const edges = CATEGORICAL[name] ?? quantileEdges(col, 10);
    const counts = new Array<number>(edges.length + 1).fill(0);
    for (const v of col) counts[binIndex(edges, v)] = (counts[binIndex(edges, v)] ?? 0) + 1;
    const mean = col.reduce((a, b) => a + b, 0) / col.length;
    const std = Math.sqrt(col.reduce((a, b) => a + (b - mean) ** 2, 0) / col.length);
    return {
      name,
      kind: name in CATEGORICAL ? ('categorical' as const) : ('continuous' as const),
      histogram: { edges, counts },
      mean,
      std,
    };
  });
  const entropies = outputs.map(outputEntropy);
  const entropyEdges = quantileEdges(entropies, 10);
  const entropyCounts = new Array<number>(entropyEdges.length + 1).fill(0);
  for (const e of entropies)
    entropyCounts[binIndex(entropyEdges, e)] = (entropyCounts[binIndex(entropyEdges, e)] ?? 0) + 1;
  const top1Counts = new Array<number>(COUNTRY_CODES.length).fill(0);
  const meanProbability = new Array<number>(COUNTRY_CODES.length).fill(0);
  for (const o of outputs) {
    let top = 0;
    o.forEach((p, c) => {
      meanProbability[c] = (meanProbability[c] as number) + p / outputs.length;
      if (p > (o[top] as number)) top = c;
    });
    top1Counts[top] = (top1Counts[top] ?? 0) + 1;
  }
  return {
    songs: songs.length,
    features: features as ReferenceProfile['features'],
    outputs: { meanProbability, top1Counts, entropy: { edges: entropyEdges, counts: entropyCounts } },
  };
}

export interface FixtureModel {
  manifest: Manifest;
  files: Record<string, Uint8Array>;
}

/** A valid manifest (content-addressed version) with two small files; `salt` makes a distinct version. */
export async function fixtureModel(
  opts: { songs?: readonly Features[]; salt?: string; parent?: string } = {},
): Promise<FixtureModel> {
  const songs =
    opts.songs ??
    catalogueSongs()
      .slice(0, 400)
      .map((s) => s.features);
  const salt = opts.salt ?? 'a';
  const files: Record<string, Uint8Array> = {
    'model.json': new TextEncoder().encode(JSON.stringify({ format: 'layers-model', salt })),
    'weights.bin': new Uint8Array(Array.from({ length: 64 }, (_, i) => (i * 7 + salt.charCodeAt(0)) % 256)),
  };
  const fileList = await Promise.all(
    Object.entries(files).map(async ([path, data]) => ({
      path,
      sha256: await sha256Hex(data),
      bytes: data.byteLength,
    })),
  );
  const metrics = { macroAuc: 0.8, microAuc: 0.85, top5Hit: 0.6, precisionAt5: 0.4, recallAt5: 0.3, brier: 0.05 };
  const first = songs[0] as Features;
  const manifest: Manifest = ManifestSchema.parse({
    schemaVersion: 1,
    version: await contentVersion(fileList),
    createdAt: '2026-11-20T10:00:00.000Z',
    format: 'tfjs-layers',
    files: fileList,
    input: { features: FEATURE_NAMES, dtype: 'float32', scaling: 'inside-model' },
    output: { countries: COUNTRY_CODES, activation: 'sigmoid' },
    architecture: { hidden: [32, 64], activation: 'relu', parameters: 12345 },
    evaluation: {
      split: 'test',
      songs: 200,
      model: metrics,
      baselines: { prior: { ...metrics, macroAuc: 0.5 } },
      perCountryAuc: Object.fromEntries(COUNTRY_CODES.map((c) => [c, 0.8])),
      reliability: [{ lo: 0, hi: 1, count: 10, meanPredicted: 0.1, observedRate: 0.1 }],
    },
    lineage: {
      datasets: [{ name: 'charts-2023.csv', sha256: 'a'.repeat(64), rows: 16888 }],
      codeCommit: 'test',
      parameters: { epochs: 1 },
      seed: 1,
      ...(opts.parent ? { parent: opts.parent } : {}),
    },
    reference: buildReference(songs),
    parity: { tolerance: 1e-4, inputs: [toVector(first)], outputs: [fakeModel(toVector(first))] },
  });
  return { manifest, files };
}

/** JSON body for POST /api/v1/models. */
export function publishBody(m: FixtureModel): { manifest: Manifest; files: Record<string, string> } {
  return {
    manifest: m.manifest,
    files: Object.fromEntries(Object.entries(m.files).map(([p, d]) => [p, Buffer.from(d).toString('base64')])),
  };
}

export interface LogOptions {
  deviceId: string;
  modelVersion: string;
  createdAt?: string;
  /** Shift added to danceability (clamped to 0–1). */
  danceShift?: number;
}

export function makeLog(song: Song | Features, o: LogOptions): PredictionLog {
  const base = 'features' in song ? song.features : song;
  const features: Features = o.danceShift
    ? { ...base, danceability: Math.min(1, Math.max(0, base.danceability + o.danceShift)) }
    : base;
  const v = toVector(features);
  return {
    id: uuidv7(),
    deviceId: o.deviceId,
    modelVersion: o.modelVersion,
    backend: 'wasm',
    latencyMs: 0.7,
    createdAt: o.createdAt ?? new Date().toISOString(),
    inputs: fromVector(v),
    // As a device sends them (float32 precision, 9 digits): the ingest bench's bodies are the real size.
    outputs: probabilitiesForLog(fakeModel(v)),
    source: 'catalogue',
    ...('id' in song ? { songId: song.id } : {}),
  };
}

export interface DeviceOutcomeOptions {
  id: string;
  songId: string;
  country: CountryCode;
  date: string;
  /** Default true. */
  charted?: boolean;
}

/** An outcome as a device reports it: whether the song charted in `country` on `date`, recorded now. */
export function deviceOutcome(o: DeviceOutcomeOptions) {
  return {
    id: o.id,
    song: { songId: o.songId },
    country: o.country,
    charted: o.charted ?? true,
    date: o.date,
    source: 'device' as const,
    recordedAt: new Date().toISOString(),
  };
}
