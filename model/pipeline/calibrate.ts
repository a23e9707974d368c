/**
 * Calibration of the trained model, folded into its output layer so the
 * exported model stays a plain Dense stack. Positive weighting (and the
 * softmax term) push logits up; we (1) undo the known shift of weighted
 * cross-entropy, logit − log(w_c) per country, then (2) fit one global Platt
 * scaling sigmoid(a·z + b) on the validation songs. Both are monotone per
 * country, so per-country AUC is unchanged; probabilities become usable.
 */
import type { DenseLayerWeights, DenseWeights } from '../runtime/dense-model.ts';
import { mapTreeValues } from '../runtime/tree-ensemble.ts';

export interface Calibration {
  /** Added to each country's logit before scaling (−log of its training positive weight). */
  readonly shift: readonly number[];
  readonly a: number;
  readonly b: number;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** Fits a, b of sigmoid(a·z + b) to labels by Newton's method on the mean log-loss (float64). */
export function fitPlatt(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  iterations = 50,
): { a: number; b: number } {
  let a = 1;
  let b = 0;
  const n = logits.length;
  for (let it = 0; it < iterations; it++) {
    let ga = 0;
    let gb = 0;
    let haa = 1e-9;
    let hab = 0;
    let hbb = 1e-9;
    for (let i = 0; i < n; i++) {
      const z = logits[i] as number;
      const p = sigmoid(a * z + b);
      const r = p - (labels[i] as number);
      const w = p * (1 - p);
      ga += r * z;
      gb += r;
      haa += w * z * z;
      hab += w * z;
      hbb += w;
    }
    const det = haa * hbb - hab * hab;
    if (!(Math.abs(det) > 1e-12)) break;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    a -= da;
    b -= db;
    if (Math.abs(da) < 1e-10 && Math.abs(db) < 1e-10) break;
  }
  return { a, b };
}

/**
 * @param probs the trained model's outputs on the validation songs (rows × k)
 * @param positiveWeights the per-country positive weights training used
 */
export function fitCalibration(
  probs: Float32Array,
  labels: Float32Array,
  positiveWeights: readonly number[],
): Calibration {
  const k = positiveWeights.length;
  const shift = positiveWeights.map((w) => -Math.log(w));
  const z = new Float64Array(probs.length);
  for (let i = 0; i < probs.length; i++) {
    const p = Math.min(1 - 1e-7, Math.max(1e-7, probs[i] as number));
    z[i] = Math.log(p / (1 - p)) + (shift[i % k] as number);
  }
  const fit = fitPlatt(z, labels);
  if (fit.a > 0) return { shift, ...fit };
  // A non-positive slope would reverse every ranking: keep the scale, fit the offset only.
  let b = 0;
  for (let it = 0; it < 50; it++) {
    let g = 0;
    let h = 1e-9;
    for (let i = 0; i < z.length; i++) {
      const p = sigmoid((z[i] as number) + b);
      g += p - (labels[i] as number);
      h += p * (1 - p);
    }
    b -= g / h;
  }
  return { shift, a: 1, b };
}

/** The same network with calibration folded into its output layer: kernel·a, bias·a + (a·shift + b). */
export function applyCalibration(w: DenseWeights, c: Calibration): DenseWeights {
  const last = w.layers[w.layers.length - 1] as DenseLayerWeights;
  const kernel = Float32Array.from(last.kernel, (v) => v * c.a);
  const bias = Float32Array.from(last.bias, (v, j) => c.a * (v + (c.shift[j] as number)) + c.b);
  // Trees add to the same pre-activation: their leaf values scale with it.
  const trees = w.trees ? { trees: mapTreeValues(w.trees, (v) => v * c.a) } : {};
  return { ...w, layers: [...w.layers.slice(0, -1), { ...last, kernel, bias }], ...trees };
}
