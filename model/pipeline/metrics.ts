/**
 * Multi-label ranking and calibration metrics on row-major matrices
 * (songs × countries): ROC-AUC (macro over countries, micro over all pairs),
 * top-5 hit rate, precision/recall@5, Brier score and a reliability table.
 * Plain float64 JS so they are exact and backend-free.
 */
import type { Metrics, ReliabilityBin } from '../contract/index.ts';
import { rocAuc } from '../stats/roc-auc.ts';
import { mulberry32 } from './prng.ts';

function column(m: ArrayLike<number>, rows: number, cols: number, c: number): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) out[r] = m[r * cols + c] as number;
  return out;
}

export function perColumnAuc(
  p: ArrayLike<number>,
  y: ArrayLike<number>,
  rows: number,
  cols: number,
): (number | null)[] {
  const out: (number | null)[] = [];
  for (let c = 0; c < cols; c++) out.push(rocAuc(column(p, rows, cols, c), column(y, rows, cols, c)));
  return out;
}

export function macroAuc(p: ArrayLike<number>, y: ArrayLike<number>, rows: number, cols: number): number {
  const aucs = perColumnAuc(p, y, rows, cols).filter((a): a is number => a !== null);
  return aucs.length > 0 ? aucs.reduce((a, b) => a + b, 0) / aucs.length : Number.NaN;
}

/** Indices of the k largest values of row r (ties: lower index first). */
export function topK(p: ArrayLike<number>, r: number, cols: number, k: number): number[] {
  const idx = Array.from({ length: cols }, (_, c) => c);
  idx.sort((a, b) => (p[r * cols + b] as number) - (p[r * cols + a] as number) || a - b);
  return idx.slice(0, k);
}

export function computeMetrics(p: ArrayLike<number>, y: ArrayLike<number>, rows: number, cols: number): Metrics {
  let hit = 0;
  let precision = 0;
  let recall = 0;
  let counted = 0;
  for (let r = 0; r < rows; r++) {
    let positives = 0;
    for (let c = 0; c < cols; c++) positives += (y[r * cols + c] as number) > 0.5 ? 1 : 0;
    if (positives === 0) continue;
    counted += 1;
    const hits = topK(p, r, cols, 5).filter((c) => (y[r * cols + c] as number) > 0.5).length;
    if (hits > 0) hit += 1;
    precision += hits / 5;
    recall += hits / positives;
  }
  let brier = 0;
  for (let i = 0; i < rows * cols; i++) brier += ((p[i] as number) - (y[i] as number)) ** 2;
  return {
    macroAuc: macroAuc(p, y, rows, cols),
    microAuc: rocAuc(p, y) ?? Number.NaN,
    top5Hit: counted > 0 ? hit / counted : 0,
    precisionAt5: counted > 0 ? precision / counted : 0,
    recallAt5: counted > 0 ? recall / counted : 0,
    brier: rows * cols > 0 ? brier / (rows * cols) : 0,
  };
}

/** Calibration: equal-width bins of predicted probability over every song × country pair. */
export function reliabilityTable(p: ArrayLike<number>, y: ArrayLike<number>, bins = 10): ReliabilityBin[] {
  const count = new Array<number>(bins).fill(0);
  const sumP = new Array<number>(bins).fill(0);
  const sumY = new Array<number>(bins).fill(0);
  for (let i = 0; i < p.length; i++) {
    const v = p[i] as number;
    const b = Math.min(bins - 1, Math.max(0, Math.floor(v * bins)));
    count[b] = (count[b] as number) + 1;
    sumP[b] = (sumP[b] as number) + v;
    sumY[b] = (sumY[b] as number) + (y[i] as number);
  }
  return count.map((n, b) => ({
    lo: b / bins,
    hi: (b + 1) / bins,
    count: n,
    meanPredicted: n > 0 ? (sumP[b] as number) / n : null,
    observedRate: n > 0 ? (sumY[b] as number) / n : null,
  }));
}

export interface BootstrapInterval {
  readonly lo: number;
  readonly hi: number;
}

/**
 * 95 % bootstrap intervals of macro AUC over songs (resampled with
 * replacement, the same resamples for every model so differences are paired),
 * plus the interval of each model's difference to `reference`.
 */
export function bootstrapMacroAuc(
  predictions: Readonly<Record<string, Float32Array>>,
  reference: string,
  y: Float32Array,
  rows: number,
  cols: number,
  samples: number,
  seed: number,
): { intervals: Record<string, BootstrapInterval>; differences: Record<string, BootstrapInterval> } {
  const random = mulberry32(seed);
  const names = Object.keys(predictions);
  const draws: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const yb = new Float32Array(rows * cols);
  const pb = new Float32Array(rows * cols);
  for (let s = 0; s < samples; s++) {
    const idx = Array.from({ length: rows }, () => Math.floor(random() * rows));
    idx.forEach((r, i) => {
      yb.set(y.subarray(r * cols, (r + 1) * cols), i * cols);
    });
    for (const n of names) {
      const p = predictions[n] as Float32Array;
      idx.forEach((r, i) => {
        pb.set(p.subarray(r * cols, (r + 1) * cols), i * cols);
      });
      draws[n]?.push(macroAuc(pb, yb, rows, cols));
    }
  }
  const interval = (v: number[]): BootstrapInterval => {
    const sorted = [...v].sort((a, b) => a - b);
    return { lo: quantileSorted(sorted, 0.025), hi: quantileSorted(sorted, 0.975) };
  };
  const ref = draws[reference] ?? [];
  return {
    intervals: Object.fromEntries(names.map((n) => [n, interval(draws[n] ?? [])])),
    differences: Object.fromEntries(
      names.filter((n) => n !== reference).map((n) => [n, interval((draws[n] ?? []).map((v, i) => v - (ref[i] ?? 0)))]),
    ),
  };
}

function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const a = sorted[lo] as number;
  const b = sorted[Math.ceil(pos)] as number;
  return a + (b - a) * (pos - lo);
}
