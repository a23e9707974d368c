/**
 * The test model shared by unit tests across model/, server/ and web/: a tiny
 * dense net (13 → 8 → 72) in the pipeline's file format with a schema-valid
 * manifest, built in memory from a seed (no tfjs needed). Never imported by
 * product code.
 */
import { contentVersion, sha256Hex } from '../contract/canonical.ts';
import { COUNTRY_CODES } from '../contract/countries.ts';
import { FEATURE_NAMES } from '../contract/features.ts';
import type { Manifest } from '../contract/manifest.ts';
import { type DenseWeights, parseDenseModel, predictReference } from '../runtime/dense-model.ts';
import { mulberry32 } from '../runtime/prng.ts';

/** Reference means and stds of the catalogue (rounded): realistic inputs for the tiny model. */
export const MEANS = [0.3, 200000, 0.68, 0.64, 5.4, -6.6, 0.55, 0.1, 0.27, 0.02, 0.17, 0.52, 121];
export const STDS = [0.46, 50000, 0.14, 0.17, 3.6, 2.6, 0.5, 0.09, 0.26, 0.1, 0.13, 0.23, 28];

export interface TinyModel {
  /** What a server hosts for it: model.json, weights.bin and manifest.json. */
  readonly files: Record<string, Uint8Array>;
  /** The files its manifest lists (model.json, weights.bin), by path, as a model store or registry holds them. */
  readonly packageFiles: ReadonlyMap<string, Uint8Array>;
  readonly manifest: Manifest;
  readonly weights: DenseWeights;
}

export async function makeTinyModel(seed = 3): Promise<TinyModel> {
  const rand = mulberry32(seed);
  const g = () => (rand() - 0.5) * 2;
  const hidden = 8;
  const k1 = new Float32Array(13 * hidden);
  const b1 = new Float32Array(hidden);
  // Fold standardisation into the first layer, as the pipeline does.
  for (let j = 0; j < hidden; j++) {
    let s = 0;
    for (let i = 0; i < 13; i++) {
      const w = g() / STDS[i]!;
      k1[i * hidden + j] = w;
      s += w * MEANS[i]!;
    }
    b1[j] = -s + g() * 0.2;
  }
  const k2 = new Float32Array(hidden * 72).map(() => g());
  const b2 = new Float32Array(72).map(() => g() - 0.5);
  const bin = new Uint8Array(new Float32Array([...k1, ...b1, ...k2, ...b2]).buffer);
  const modelJson = {
    format: 'layers-model',
    modelTopology: {
      class_name: 'Sequential',
      config: {
        name: 'tiny',
        layers: [
          { class_name: 'Dense', config: { units: hidden, activation: 'relu', use_bias: true } },
          { class_name: 'Dense', config: { units: 72, activation: 'sigmoid', use_bias: true } },
        ],
      },
    },
    weightsManifest: [
      {
        paths: ['weights.bin'],
        weights: [
          { name: 'd0/kernel', shape: [13, hidden], dtype: 'float32' },
          { name: 'd0/bias', shape: [hidden], dtype: 'float32' },
          { name: 'd1/kernel', shape: [hidden, 72], dtype: 'float32' },
          { name: 'd1/bias', shape: [72], dtype: 'float32' },
        ],
      },
    ],
  };
  const mj = new TextEncoder().encode(JSON.stringify(modelJson));
  const parsed = parseDenseModel(modelJson, bin.slice().buffer);
  if (!parsed.ok) throw new Error(parsed.message);
  const files = [
    { path: 'model.json', sha256: await sha256Hex(mj), bytes: mj.byteLength },
    { path: 'weights.bin', sha256: await sha256Hex(bin), bytes: bin.byteLength },
  ];
  const parityInputs = [MEANS, MEANS.map((m, i) => m + STDS[i]! * 0.5)].map((r) =>
    r.map((v, i) => (i === 0 || i === 6 ? Math.round(Math.min(1, v)) : i === 4 ? Math.round(v) : v)),
  );
  const metrics = { macroAuc: 0.5, microAuc: 0.5, top5Hit: 0, precisionAt5: 0, recallAt5: 0, brier: 0.25 };
  const manifest: Manifest = {
    schemaVersion: 1,
    version: await contentVersion(files),
    createdAt: new Date(0).toISOString(),
    format: 'tfjs-layers',
    files,
    input: { features: FEATURE_NAMES, dtype: 'float32', scaling: 'inside-model' },
    output: { countries: COUNTRY_CODES, activation: 'sigmoid' },
    architecture: { hidden: [hidden], activation: 'relu', parameters: bin.byteLength / 4 },
    evaluation: {
      split: 'test',
      songs: 1,
      model: metrics,
      baselines: {},
      perCountryAuc: Object.fromEntries(COUNTRY_CODES.map((c) => [c, null])) as Manifest['evaluation']['perCountryAuc'],
      reliability: [],
    },
    lineage: {
      datasets: [{ name: 'tiny', sha256: files[1]!.sha256, rows: 0 }],
      codeCommit: 'test',
      parameters: {},
      seed,
    },
    reference: {
      songs: 1,
      features: FEATURE_NAMES.map((name, i) => ({
        name,
        kind: 'continuous' as const,
        histogram: { edges: [MEANS[i]!], counts: [1, 1] },
        mean: MEANS[i]!,
        std: STDS[i]!,
      })),
      outputs: {
        meanProbability: COUNTRY_CODES.map(() => 0.2),
        top1Counts: COUNTRY_CODES.map(() => 0),
        entropy: { edges: [1], counts: [0, 0] },
      },
    },
    parity: {
      tolerance: 1e-5,
      inputs: parityInputs,
      outputs: parityInputs.map((x) => Array.from(predictReference(parsed.value, x))),
    },
  };
  return {
    files: {
      'model.json': mj,
      'weights.bin': bin,
      'manifest.json': new TextEncoder().encode(JSON.stringify(manifest)),
    },
    packageFiles: new Map([
      ['model.json', mj],
      ['weights.bin', bin],
    ]),
    manifest,
    weights: parsed.value,
  };
}

/** A fetch over the tiny model's files at `/m/…` (404 elsewhere). */
export function fetchFiles(files: Record<string, Uint8Array>): (url: string) => Promise<Response> {
  return async (url) => {
    const name = url.replace(/^\/m\//, '');
    const body = files[name];
    return body ? new Response(body.slice()) : new Response('missing', { status: 404 });
  };
}
