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
import { combineMembers, storedParameters } from './ensemble.ts';
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
  /**
   * Weight of an extra softmax cross-entropy term on the logits against the song's countries
   * normalised to sum 1: most songs chart in one country, so "which country" is a shared signal.
   */
  readonly softmaxWeight: number;
  /** Activation of the hidden layers (default relu); linear gives a low-rank multi-task model. */
  readonly hiddenActivation?: 'relu' | 'linear';
  /**
   * Label smoothing ε: targets (1 − ε)·y + ε·p_c, p_c the country's share of the training songs (toward the
   * base rate, not 0.5: with ~2 % positives, 0.5 would teach every country to be likely).
   */
  readonly labelSmoothing?: number;
  readonly seed: number;
}

export interface TrainData {
  /** Standardised features, rows × 13. */
  readonly x: Float32Array;
  /** 0/1 labels, rows × 72. */
  readonly y: Float32Array;
  readonly rows: number;
  /** The raw features before standardisation, where a caller has them (engineered inputs need them). */
  readonly raw?: Float32Array;
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
export function positiveWeights(
  y: Float32Array,
  rows: number,
  p: Pick<TrainParams, 'positiveWeighting' | 'maxPositiveWeight'>,
): number[] {
  const w: number[] = [];
  for (let c = 0; c < OUT; c++) {
    let pos = 0;
    for (let r = 0; r < rows; r++) pos += y[r * OUT + c] as number;
    if (p.positiveWeighting === 'none') w.push(1);
    else w.push(Math.min(p.maxPositiveWeight, Math.max(1, Math.sqrt((rows - pos) / Math.max(1, pos)))));
  }
  return w;
}

/** Targets smoothed toward each country's training base rate (the labels themselves when ε is 0). */
export function smoothLabels(y: Float32Array, rows: number, epsilon: number): Float32Array {
  if (!(epsilon > 0)) return y;
  const rate = new Float64Array(OUT);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < OUT; c++) rate[c] = (rate[c] as number) + (y[r * OUT + c] as number);
  for (let c = 0; c < OUT; c++) rate[c] = (rate[c] as number) / Math.max(1, rows);
  return y.map((v, i) => (1 - epsilon) * v + epsilon * (rate[i % OUT] as number));
}

/** Builds the layers model (also used by export with folded weights). */
export function buildNetwork(
  hidden: readonly number[],
  dropout: number,
  l2: number,
  seed: number,
  hiddenActivation: 'relu' | 'linear' = 'relu',
): tfl.Sequential {
  const model = tfl.sequential({ name: 'jukebox_edge' });
  let i = 0;
  const reg = l2 > 0 ? tfl.regularizers.l2({ l2 }) : undefined;
  for (const units of hidden) {
    model.add(
      tfl.layers.dense({
        ...(i === 0 ? { inputShape: [IN] } : {}),
        units,
        activation: hiddenActivation,
        kernelInitializer: tfl.initializers.heNormal({ seed: deriveSeed(seed, `kernel-${i}`) }),
        biasInitializer: 'zeros',
        ...(reg ? { kernelRegularizer: reg } : {}),
        name: `dense_${i}`,
      }),
    );
    if (dropout > 0)
      model.add(tfl.layers.dropout({ rate: dropout, seed: deriveSeed(seed, `dropout-${i}`), name: `dropout_${i}` }));
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

/**
 * With `validation` null (the refit on every song), trains exactly `maxEpochs` epochs and keeps the last
 * weights: the epoch count then comes from cross-validation, not from songs it would be scored on.
 */
export async function trainNetwork(
  train: TrainData,
  validation: TrainData | null,
  p: TrainParams,
  onEpoch?: (log: EpochLog, best: number) => void,
): Promise<TrainResult> {
  const model = buildNetwork(p.hidden, p.dropout, p.l2, p.seed, p.hiddenActivation);
  const posW = tf.tensor1d(positiveWeights(train.y, train.rows, p));
  const targets = smoothLabels(train.y, train.rows, p.labelSmoothing ?? 0);
  const eps = 1e-7;
  const loss = (yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor =>
    tf.tidy(() => {
      const q = tf.clipByValue(yPred, eps, 1 - eps);
      const pos = tf.mul(tf.mul(yTrue, posW), tf.log(q));
      const neg = tf.mul(tf.sub(1, yTrue), tf.log(tf.sub(1, q)));
      const bce = tf.neg(tf.mean(tf.add(pos, neg), -1));
      if (!(p.softmaxWeight > 0)) return bce;
      const logits = tf.sub(tf.log(q), tf.log(tf.sub(1, q)));
      const target = tf.div(yTrue, tf.maximum(tf.sum(yTrue, -1, true), 1));
      const ce = tf.neg(tf.sum(tf.mul(target, tf.logSoftmax(logits)), -1));
      return tf.add(bce, tf.mul(p.softmaxWeight, ce));
    });
  // Passed as an instance, the optimizer is not owned by the model: disposed below with its slots.
  const optimizer = tf.train.adam(p.learningRate);
  model.compile({ optimizer, loss });

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
        const ys = tf.tensor2d(gatherRows(targets, OUT, idx), [idx.length, OUT]);
        const l = await model.trainOnBatch(xs, ys);
        xs.dispose();
        ys.dispose();
        lossSum += Array.isArray(l) ? (l[0] as number) : l;
        batches++;
      }
      const auc = validation
        ? macroAuc(predictWith(model, validation.x, validation.rows), validation.y, validation.rows, OUT)
        : Number.NaN;
      const log = { epoch, loss: lossSum / batches, validationMacroAuc: auc, ms: performance.now() - t0 };
      history.push(log);
      if (!validation) {
        bestEpoch = epoch;
        if (epoch === p.maxEpochs) bestWeights = snapshotWeights(model);
      } else if (auc > best) {
        best = auc;
        bestEpoch = epoch;
        bestWeights = snapshotWeights(model);
      }
      onEpoch?.(log, best);
      if (validation && epoch - bestEpoch >= p.patience) break;
    }
  } finally {
    posW.dispose();
    optimizer.dispose();
    model.dispose();
  }
  return {
    weights: bestWeights,
    history,
    bestEpoch,
    bestValidationMacroAuc: validation ? best : Number.NaN,
    parameters: countParameters(p.hidden),
  };
}

export interface EnsembleParams extends TrainParams {
  /** Networks trained from different seeds and folded into one (1 = a single network). */
  readonly members: number;
}

export interface EnsembleResult {
  /** The members folded into one Dense stack (standardised inputs). */
  readonly weights: DenseWeights;
  readonly members: readonly Omit<TrainResult, 'weights'>[];
  /** Validation macro AUC of the folded ensemble. */
  readonly bestValidationMacroAuc: number;
  readonly bestEpoch: number;
  readonly epochsRun: number;
  readonly parameters: number;
}

/** Trains `members` networks (member k seeded from the run seed and k) and folds them into one. */
export async function trainEnsemble(
  train: TrainData,
  validation: TrainData | null,
  p: EnsembleParams,
  onMember?: (member: number) => ((log: EpochLog, best: number) => void) | undefined,
): Promise<EnsembleResult> {
  const results: TrainResult[] = [];
  for (let m = 0; m < p.members; m++) {
    const seed = p.members === 1 ? p.seed : deriveSeed(p.seed, `member-${m}`);
    results.push(await trainNetwork(train, validation, { ...p, seed }, onMember?.(m)));
  }
  const weights = combineMembers(results.map((r) => r.weights));
  const combined = results.length === 1 ? (results[0] as TrainResult).bestValidationMacroAuc : undefined;
  let auc = combined;
  if (auc === undefined && !validation) auc = Number.NaN;
  if (auc === undefined && validation) {
    const hidden = weights.layers.slice(0, -1).map((l) => l.units);
    const model = buildNetwork(hidden, 0, 0, 0, p.hiddenActivation);
    try {
      loadWeightsInto(model, weights);
      auc = macroAuc(predictWith(model, validation.x, validation.rows), validation.y, validation.rows, OUT);
    } finally {
      model.dispose();
    }
  }
  return {
    weights,
    members: results.map(({ weights: _w, ...rest }) => rest),
    bestValidationMacroAuc: auc ?? Number.NaN,
    bestEpoch: Math.max(...results.map((r) => r.bestEpoch)),
    epochsRun: results.reduce((a, r) => a + r.history.length, 0),
    parameters: storedParameters(weights),
  };
}
