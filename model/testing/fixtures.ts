/**
 * Test fixtures shared by unit tests across model/, server/ and web/: a tiny
 * exported model in the real file format and a schema-valid manifest for it.
 * Never imported by product code.
 */
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { contentVersion, sha256Hex } from '../contract/canonical.ts';
import { COUNTRY_CODES, NUM_COUNTRIES } from '../contract/countries.ts';
import { FEATURE_NAMES, NUM_FEATURES } from '../contract/features.ts';
import { type Manifest, ManifestSchema } from '../contract/manifest.ts';
import { parseDenseModel, predictReference } from '../runtime/dense-model.ts';

export interface TinyModel {
  readonly modelJson: Uint8Array;
  readonly weights: Uint8Array;
  readonly manifest: Manifest;
  readonly files: Map<string, Uint8Array>;
}

/** A 13→8→72 model with seeded weights, exported as model.json + weights.bin with a manifest. */
export async function makeTinyModel(seed = 1): Promise<TinyModel> {
  if (tf.getBackend() !== 'cpu') await tf.setBackend('cpu');
  const m = tfl.sequential({
    layers: [
      tfl.layers.dense({
        inputShape: [NUM_FEATURES],
        units: 8,
        activation: 'relu',
        kernelInitializer: tfl.initializers.glorotUniform({ seed }),
      }),
      tfl.layers.dense({
        units: NUM_COUNTRIES,
        activation: 'sigmoid',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }),
      }),
    ],
  });
  let topology: unknown;
  let specs: unknown;
  let data: ArrayBuffer | undefined;
  await m.save(
    tf.io.withSaveHandler(async (a) => {
      topology = a.modelTopology;
      specs = a.weightSpecs;
      data = a.weightData as ArrayBuffer;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  m.dispose();
  const modelJsonObject = { modelTopology: topology, weightsManifest: [{ paths: ['weights.bin'], weights: specs }] };
  const modelJson = new TextEncoder().encode(JSON.stringify(modelJsonObject));
  const weights = new Uint8Array(data!);
  const parsed = parseDenseModel(modelJsonObject, weights.slice().buffer);
  if (!parsed.ok) throw new Error(parsed.message);
  const inputs = [0, 1].map((r) => FEATURE_NAMES.map((_, i) => ((r + 1) * (i + 1)) % 7) as number[]);
  const outputs = inputs.map((x) => Array.from(predictReference(parsed.value, x)));
  const files = [
    { path: 'model.json', sha256: await sha256Hex(modelJson), bytes: modelJson.byteLength },
    { path: 'weights.bin', sha256: await sha256Hex(weights), bytes: weights.byteLength },
  ];
  const metrics = { macroAuc: 0.8, microAuc: 0.85, top5Hit: 0.5, precisionAt5: 0.3, recallAt5: 0.2, brier: 0.05 };
  const manifest = ManifestSchema.parse({
    schemaVersion: 1,
    version: await contentVersion(files),
    createdAt: '2026-11-23T09:00:00.000Z',
    format: 'tfjs-layers',
    files,
    input: { features: [...FEATURE_NAMES], dtype: 'float32', scaling: 'inside-model' },
    output: { countries: [...COUNTRY_CODES], activation: 'sigmoid' },
    architecture: { hidden: [8], activation: 'relu', parameters: 13 * 8 + 8 + 8 * 72 + 72 },
    evaluation: {
      split: 'test',
      songs: 10,
      model: metrics,
      baselines: { prior: metrics },
      perCountryAuc: Object.fromEntries(COUNTRY_CODES.map((c) => [c, null])),
      reliability: [{ lo: 0, hi: 1, count: 1, meanPredicted: 0.1, observedRate: 0 }],
    },
    lineage: {
      datasets: [{ name: 'fixture', sha256: files[1]!.sha256, rows: 0 }],
      codeCommit: 'test',
      parameters: {},
      seed,
    },
    reference: {
      songs: 3,
      features: FEATURE_NAMES.map((name) => ({
        name,
        kind: 'continuous',
        histogram: { edges: [0.5], counts: [1, 2] },
        mean: 0.5,
        std: 0.1,
      })),
      outputs: {
        meanProbability: COUNTRY_CODES.map(() => 0.1),
        top1Counts: COUNTRY_CODES.map(() => 0),
        entropy: { edges: [3], counts: [1, 2] },
      },
    },
    parity: { tolerance: 1e-4, inputs, outputs },
  });
  return {
    modelJson,
    weights,
    manifest,
    files: new Map([
      ['model.json', modelJson],
      ['weights.bin', weights],
    ]),
  };
}
