/**
 * A monotone per-feature transform fitted on the training songs: each
 * (standardised) feature mapped through its empirical CDF (mid-ranks at a few
 * quantile knots, linear in between, flat outside), then standardised again.
 * Skewed features (speechiness, instrumentalness, liveness) stop being a few
 * outliers and a crowd at zero.
 *
 * It is written as v₀ + Σ Δs_k · relu(x − t_k), so it folds EXACTLY into one
 * relu Dense layer in front of the network (`prependTransform`): what ships
 * still runs in the app's dense kernels unchanged.
 */
import type { DenseLayerWeights, DenseWeights } from '../runtime/dense-model.ts';

export interface FeatureCurve {
  /** Knots, strictly increasing. */
  readonly knots: readonly number[];
  /** Slope change at each knot (the slope left of the first knot is 0). */
  readonly slopeChanges: readonly number[];
  /** Value at and left of the first knot, minus the training mean, over the training std. */
  readonly offset: number;
  /** 1 / std of the mapped training values. */
  readonly scale: number;
}

export type QuantileTransform = readonly FeatureCurve[];

/** Quantile knots per feature (fewer when a feature has fewer distinct values). */
export const QUANTILE_KNOTS = 9;
/** Smallest gap between knots, in standardised units. */
const MIN_GAP = 0.05;

function curveValue(knots: readonly number[], slopes: readonly number[], v0: number, x: number): number {
  let out = v0;
  for (let k = 0; k < knots.length; k++) {
    const d = x - (knots[k] as number);
    if (d > 0) out += (slopes[k] as number) * d;
  }
  return out;
}

/** Fits one curve per column of `x` (rows × cols). */
export function fitQuantileTransform(
  x: Float32Array,
  rows: number,
  cols: number,
  knots = QUANTILE_KNOTS,
): QuantileTransform {
  const out: FeatureCurve[] = [];
  for (let c = 0; c < cols; c++) {
    const col = Array.from({ length: rows }, (_, r) => x[r * cols + c] as number).sort((a, b) => a - b);
    const t: number[] = [];
    for (let k = 0; k < knots; k++) {
      const v = col[Math.round((k / (knots - 1)) * (rows - 1))] as number;
      // Knots closer than MIN_GAP would make steep slopes that float32 folding cannot carry exactly.
      if (t.length === 0 || v - (t[t.length - 1] as number) >= MIN_GAP) t.push(v);
    }
    // Mid-rank CDF at each knot.
    const cdf = t.map((v) => {
      let below = 0;
      let atOrBelow = 0;
      for (const u of col) {
        if (u < v) below++;
        if (u <= v) atOrBelow++;
      }
      return (below + atOrBelow) / (2 * rows);
    });
    const slopes: number[] = [];
    for (let k = 0; k + 1 < t.length; k++)
      slopes.push(((cdf[k + 1] as number) - (cdf[k] as number)) / ((t[k + 1] as number) - (t[k] as number)));
    const changes = t.map((_, k) => (slopes[k] ?? 0) - (slopes[k - 1] ?? 0));
    const v0 = cdf[0] ?? 0;
    let mean = 0;
    for (const u of col) mean += curveValue(t, changes, v0, u);
    mean /= rows;
    let sq = 0;
    for (const u of col) sq += (curveValue(t, changes, v0, u) - mean) ** 2;
    const std = Math.sqrt(sq / rows);
    const scale = std > 1e-12 ? 1 / std : 1;
    out.push({ knots: t, slopeChanges: changes, offset: (v0 - mean) * scale, scale });
  }
  return out;
}

export function applyQuantileTransform(q: QuantileTransform, x: Float32Array, rows: number): Float32Array {
  const cols = q.length;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++)
    q.forEach((f, c) => {
      out[r * cols + c] = f.offset + f.scale * curveValue(f.knots, f.slopeChanges, 0, x[r * cols + c] as number);
    });
  return out;
}

/**
 * The network that reads transformed inputs as one that reads the untransformed ones: a relu layer of
 * relu(x_i − t_ik) units in front, and the network's first layer rewritten to read them (exact).
 */
export function prependTransform(q: QuantileTransform, w: DenseWeights): DenseWeights {
  const first = w.layers[0] as DenseLayerWeights;
  const cols = q.length;
  const units = q.reduce((n, f) => n + f.knots.length, 0);
  const k0 = new Float32Array(cols * units);
  const b0 = new Float32Array(units);
  const k1 = new Float32Array(units * first.units);
  const b1 = Float32Array.from(first.bias);
  let u = 0;
  q.forEach((f, i) => {
    for (let j = 0; j < first.units; j++)
      b1[j] = (b1[j] as number) + f.offset * (first.kernel[i * first.units + j] as number);
    f.knots.forEach((t, k) => {
      k0[i * units + u] = 1;
      b0[u] = -t;
      const s = f.scale * (f.slopeChanges[k] as number);
      for (let j = 0; j < first.units; j++) k1[u * first.units + j] = s * (first.kernel[i * first.units + j] as number);
      u++;
    });
  });
  const layers: DenseLayerWeights[] = [
    { inputs: cols, units, kernel: k0, bias: b0, activation: 'relu' },
    { ...first, inputs: units, kernel: k1, bias: b1 },
    ...w.layers.slice(1),
  ];
  return { layers, inputSize: w.inputSize, outputSize: w.outputSize };
}
