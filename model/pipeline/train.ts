/**
 * Step 5, train: a stack of Dense layers ending in 72 sigmoids, trained with
 * tfjs-layers on the active backend (wasm in the pipeline) on standardised
 * inputs, with binary cross-entropy weighted per country against class
 * imbalance, early stopping on validation macro AUC with best-weights restore.
 *
 * Deterministic: every initializer and every dropout mask is seeded from the
 * run's seed, batches follow our own seeded shuffle (not fit's Math.random),
 * and batch order is fixed, so the same data and seed give the same weights.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { COUNTRY_CODES, FEATURE_NAMES } from '../contract/index.ts';
import type { Activation, DenseWeights } from '../runtime/dense-model.ts';
import { macroAuc } from './metrics.ts';
import { deriveSeed, mulberry32, shuffleInPlace } from './prng.ts';

export interface TrainParams {
  readonly hidden: readonly number[];
  readonly dropout: number;
  /** L2 penalty on kernels. */
  readonly l2: number;
  readonly learningRate: number;
  readonly batchSize: number;
  readonly maxEpochs: number;
  /** Epochs without a better validation macro AUC before stopping. */
  readonly patience: number;
  /** Positive-class weight per country: none, or sqrt(negatives/positives) capped at maxPositiveWeight. */
  readonly positiveWeighting: 'none' | 'sqrt';
  readonly maxPositiveWeight: number;
  readonly seed: number;
}

export interface TrainData {
  /** Standardised features, rows × 13. */
  readonly x: Float32Array;
  /** 0/1 labels, rows × 72. */
  readonly y: Float32Array;
  readonly rows: number;
}

export interface EpochLog {
  readonly epoch: number;
  readonly loss: number;
  readonly validationMacroAuc: number;
  readonly ms: number;
}

export interface TrainResult {
  /** Weights of the model that takes STANDARDISED inputs (export folds the scaler in). */
  readonly weights: DenseWeights;
  readonly history: EpochLog[];
  readonly bestEpoch: number;
  readonly bestValidationMacroAuc: number;
  readonly parameters: number;
}

const IN = FEATURE_NAMES.length;
const OUT = COUNTRY_CODES.length;

/** sqrt(neg/pos) per country from the training labels, in [1, cap]; 1 everywhere for 'none'. */
export function positiveWeights(y: Float32Array, rows: number, p: Pick<TrainParams, 'positiveWeighting' | 'maxPositiveWeight'>): number[] {
  const w: number[] = [];
  for (let c = 0; c < OUT; c++) {
    let pos = 0;
    for (let r = 0; r < rows; r++) pos += y[r * OUT + c] as number;
    if (p.positiveWeighting === 'none') w.push(1);
    else w.push(Math.min(p.maxPositiveWeight, Math.max(1, Math.sqrt((rows - pos) / Math.max(1, pos)))));
  }
  return w;
}

/** Builds the layers model (also used by export with folded weights). */
export function buildNetwork(hidden: readonly number[], dropout: number, l2: number, seed: number): tfl.Sequential {
  const model = tfl.sequential({ name: 'jukebox_edge' });
  let i = 0;
  const reg = l2 > 0 ? tfl.regularizers.l2({ l2 }) : undefined;
  for (const units of hidden) {
    model.add(
      tfl.layers.dense({
        ...(i === 0 ? { inputShape: [IN] } : {}),
        units,
        activation: 'relu',
        kernelInitializer: tfl.initializers.heNormal({ seed: deriveSeed(seed, `kernel-${i}`) }),
        biasInitializer: 'zeros',
        ...(reg ? { kernelRegularizer: reg } : {}),
        name: `dense_${i}`,
      }),
    );
    if (dropout > 0) model.add(tfl.layers.dropout({ rate: dropout, seed: deriveSeed(seed, `dropout-${i}`), name: `dropout_${i}` }));
    i++;
  }
  model.add(
    tfl.layers.dense({
      ...(i === 0 ? { inputShape: [IN] } : {}),
      units: OUT,
      activation: 'sigmoid',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: deriveSeed(seed, `kernel-${i}`) }),
      biasInitializer: 'zeros',
      ...(reg ? { kernelRegularizer: reg } : {}),
      name: `dense_${i}`,
    }),
  );
  return model;
}

/** Plain-array snapshot of a Dense/Dropout stack's weights. */
export function snapshotWeights(model: tfl.LayersModel): DenseWeights {
  const layers = model.layers
    .filter((l) => l.getClassName() === 'Dense')
    .map((l) => {
      const [k, b] = l.getWeights();
      const shape = (k as tf.Tensor).shape as [number, number];
      const cfg = l.getConfig() as { activation?: string };
      return {
        inputs: shape[0],
        units: shape[1],
        kernel: Float32Array.from((k as tf.Tensor).dataSync()),
        bias: Float32Array.from((b as tf.Tensor).dataSync()),
        activation: (cfg.activation ?? 'linear') as Activation,
      };
    });
  return { layers, inputSize: layers[0]?.inputs ?? IN, outputSize: layers[layers.length - 1]?.units ?? OUT };
}

export function loadWeightsInto(model: tfl.LayersModel, w: DenseWeights): void {
  const tensors = w.layers.flatMap((l) => [tf.tensor2d(l.kernel, [l.inputs, l.units]), tf.tensor1d(l.bias)]);
  model.setWeights(tensors);
  for (const t of tensors) t.dispose();
}

export function predictWith(model: tfl.LayersModel, x: Float32Array, rows: number): Float32Array {
  return tf.tidy(() => {
    const out = model.predict(tf.tensor2d(x, [rows, IN])) as tf.Tensor;
    return Float32Array.from(out.dataSync());
  });
}

export function countParameters(hidden: readonly number[]): number {
  let n = 0;
  let prev: number = IN;
  for (const u of [...hidden, OUT]) {
    n += prev * u + u;
    prev = u;
  }
  return n;
}

function gatherRows(src: Float32Array, cols: number, idx: readonly number[]): Float32Array {
  const out = new Float32Array(idx.length * cols);
  idx.forEach((r, i) => {
    out.set(src.subarray(r * cols, (r + 1) * cols), i * cols);
  });
  return out;
}

export async function trainNetwork(
  train: TrainData,
  validation: TrainData,
  p: TrainParams,
  onEpoch?: (log: EpochLog, best: number) => void,
): Promise<TrainResult> {
  const model = buildNetwork(p.hidden, p.dropout, p.l2, p.seed);
  const posW = tf.tensor1d(positiveWeights(train.y, train.rows, p));
  const eps = 1e-7;
  const loss = (yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor =>
    tf.tidy(() => {
      const q = tf.clipByValue(yPred, eps, 1 - eps);
      const pos = tf.mul(tf.mul(yTrue, posW), tf.log(q));
      const neg = tf.mul(tf.sub(1, yTrue), tf.log(tf.sub(1, q)));
      return tf.neg(tf.mean(tf.add(pos, neg), -1));
    });
  model.compile({ optimizer: tf.train.adam(p.learningRate), loss });

  const random = mulberry32(deriveSeed(p.seed, 'batches'));
  const dropoutLayers = model.layers.filter((l) => l.getClassName() === 'Dropout') as unknown as { seed?: number }[];
  const order = Array.from({ length: train.rows }, (_, i) => i);
  const history: EpochLog[] = [];
  let best = Number.NEGATIVE_INFINITY;
  let bestEpoch = 0;
  let bestWeights = snapshotWeights(model);
  let step = 0;
  try {
    for (let epoch = 1; epoch <= p.maxEpochs; epoch++) {
      const t0 = performance.now();
      shuffleInPlace(order, random);
      let lossSum = 0;
      let batches = 0;
      for (let start = 0; start < train.rows; start += p.batchSize) {
        const idx = order.slice(start, start + p.batchSize);
        // tfjs reuses a Dropout layer's seed for every call (same mask each batch): give each step its own.
        for (const d of dropoutLayers) d.seed = deriveSeed(p.seed, `dropout-step-${step}-${dropoutLayers.indexOf(d)}`);
        step++;
        const xs = tf.tensor2d(gatherRows(train.x, IN, idx), [idx.length, IN]);
        const ys = tf.tensor2d(gatherRows(train.y, OUT, idx), [idx.length, OUT]);
        const l = await model.trainOnBatch(xs, ys);
        xs.dispose();
        ys.dispose();
        lossSum += Array.isArray(l) ? (l[0] as number) : l;
        batches++;
      }
      const auc = macroAuc(predictWith(model, validation.x, validation.rows), validation.y, validation.rows, OUT);
      const log = { epoch, loss: lossSum / batches, validationMacroAuc: auc, ms: performance.now() - t0 };
      history.push(log);
      if (auc > best) {
        best = auc;
        bestEpoch = epoch;
        bestWeights = snapshotWeights(model);
      }
      onEpoch?.(log, best);
      if (epoch - bestEpoch >= p.patience) break;
    }
  } finally {
    posW.dispose();
    model.dispose();
  }
  return {
    weights: bestWeights,
    history,
    bestEpoch,
    bestValidationMacroAuc: best,
    parameters: countParameters(p.hidden),
  };
}
