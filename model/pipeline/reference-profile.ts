/**
 * The training reference profile for drift (manifest.reference): per-feature
 * histograms on decile edges of the train + validation songs (repeated edges
 * dropped; categorical features on midpoint edges), mean and std, and the
 * exported model's outputs on those songs (mean probability per country,
 * top-1 counts, entropy histogram). Binning uses the contract's binIndex.
 */
import {
  binIndex,
  COUNTRY_CODES,
  FEATURE_NAMES,
  type FeatureName,
  type Histogram,
  outputEntropy,
  type ReferenceProfile,
} from '../contract/index.ts';

const CATEGORICAL_EDGES: Partial<Record<FeatureName, number[]>> = {
  is_explicit: [0.5],
  mode: [0.5],
  // Pitch classes −1 … 11: one bin each.
  key: Array.from({ length: 12 }, (_, i) => i - 0.5),
};

/** Linear-interpolated quantile of sorted values. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}

/** Inner decile cut points, deduplicated (heavily tied features such as instrumentalness have fewer). */
export function decileEdges(values: readonly number[]): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  const edges: number[] = [];
  for (let d = 1; d <= 9; d++) {
    const e = quantile(sorted, d / 10);
    if (edges.length === 0 || e > (edges[edges.length - 1] as number)) edges.push(e);
  }
  return edges;
}

export function histogram(values: readonly number[], edges: readonly number[]): Histogram {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const v of values) {
    const b = binIndex(edges, v);
    counts[b] = (counts[b] as number) + 1;
  }
  return { edges: [...edges], counts };
}

/**
 * @param rawX raw features of the reference songs, rows × 13
 * @param probs the exported model's outputs on them, rows × 72
 */
export function referenceProfile(rawX: Float32Array, probs: Float32Array, rows: number): ReferenceProfile {
  const cols = FEATURE_NAMES.length;
  const k = COUNTRY_CODES.length;
  const features = FEATURE_NAMES.map((name, c) => {
    const values = Array.from({ length: rows }, (_, r) => rawX[r * cols + c] as number);
    const categorical = CATEGORICAL_EDGES[name];
    const mean = values.reduce((a, b) => a + b, 0) / rows;
    const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / rows);
    return {
      name,
      kind: categorical ? ('categorical' as const) : ('continuous' as const),
      histogram: histogram(values, categorical ?? decileEdges(values)),
      mean,
      std,
    };
  });
  const meanProbability = new Array<number>(k).fill(0);
  const top1Counts = new Array<number>(k).fill(0);
  const entropies: number[] = [];
  for (let r = 0; r < rows; r++) {
    const row = probs.subarray(r * k, (r + 1) * k);
    let best = 0;
    for (let c = 0; c < k; c++) {
      meanProbability[c] = (meanProbability[c] as number) + (row[c] as number) / rows;
      if ((row[c] as number) > (row[best] as number)) best = c;
    }
    top1Counts[best] = (top1Counts[best] as number) + 1;
    entropies.push(outputEntropy(row));
  }
  return {
    songs: rows,
    features,
    outputs: {
      meanProbability: meanProbability.map((m) => Math.min(1, Math.max(0, m))),
      top1Counts,
      entropy: histogram(entropies, decileEdges(entropies)),
    },
  };
}
