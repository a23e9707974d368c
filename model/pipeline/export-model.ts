/**
 * Step 7, export: folds the standardisation into the first Dense layer
 * (W' = W / std row-wise, b' = b − Σ (mean/std)·W) so the exported model takes
 * raw feature values, and writes it in the tfjs layers format: model.json
 * (modelTopology + weightsManifest) and weights.bin.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DenseWeights } from '../runtime/dense-model.ts';
import { encodeTrees, type TreeEnsemble } from '../runtime/tree-ensemble.ts';
import type { Scaler } from './scaler.ts';
import { buildNetwork, loadWeightsInto } from './train.ts';

export interface ExportedModel {
  /** model.json text. */
  readonly modelJson: string;
  readonly weightsBin: Uint8Array;
  /** trees.bin (`model/runtime/tree-ensemble.ts`) when the model has boosted trees. */
  readonly treesBin?: Uint8Array;
}

/** The same network taking raw inputs; computed in float64, stored as float32. */
export function foldScaler(w: DenseWeights, s: Scaler): DenseWeights {
  const [first, ...rest] = w.layers;
  if (!first) throw new Error('model has no layers');
  const { inputs, units, kernel, bias } = first;
  const k = new Float32Array(kernel.length);
  const b = new Float32Array(units);
  for (let j = 0; j < units; j++) {
    let shift = bias[j] as number;
    for (let i = 0; i < inputs; i++) {
      const wij = kernel[i * units + j] as number;
      const std = s.std[i] as number;
      k[i * units + j] = wij / std;
      shift -= ((s.mean[i] as number) / std) * wij;
    }
    b[j] = shift;
  }
  // Trees were grown on standardised inputs; each keeps the raw value of the same split (`rawThreshold`).
  const trees = w.trees ? { trees: rawInputTrees(w.trees) } : {};
  return { ...w, layers: [{ ...first, kernel: k, bias: b }, ...rest], ...trees };
}

function rawInputTrees(t: TreeEnsemble): TreeEnsemble {
  if (!t.rawThreshold) throw new Error('trees without raw thresholds cannot take raw inputs');
  const { rawThreshold, ...rest } = t;
  return { ...rest, threshold: rawThreshold };
}

function concatWeightData(d: ArrayBuffer | ArrayBuffer[]): Uint8Array {
  const parts = Array.isArray(d) ? d : [d];
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), o);
    o += p.byteLength;
  }
  return out;
}

/** Serialises raw-input weights through tfjs-layers, so the topology is exactly what tfjs writes. */
export async function exportLayersModel(
  raw: DenseWeights,
  hidden: readonly number[],
  dropout: number,
  seed: number,
): Promise<ExportedModel> {
  const model = buildNetwork(hidden, dropout, 0, seed);
  try {
    loadWeightsInto(model, raw);
    let out: ExportedModel | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        const modelJson = {
          format: 'layers-model',
          generatedBy: 'jukebox-edge pipeline',
          convertedBy: null,
          modelTopology: a.modelTopology,
          weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
        };
        out = {
          modelJson: `${JSON.stringify(modelJson)}\n`,
          weightsBin: concatWeightData(a.weightData as ArrayBuffer | ArrayBuffer[]),
          ...(raw.trees ? { treesBin: encodeTrees(raw.trees) } : {}),
        };
        return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
      }),
    );
    if (!out) throw new Error('tfjs did not hand over the model artifacts');
    return out;
  } finally {
    model.dispose();
  }
}
