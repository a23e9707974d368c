/**
 * Engineered inputs a tabular-ML engineer would add, computed inside the exported network: each feature is
 * replaced in place by a piecewise-linear function of itself (relu knots, the same curves as the quantile
 * transform, so `prependTransform` folds them exactly into one relu layer the app's dense kernels run):
 *
 * - duration → log duration (knots at training quantiles, exact at the knots);
 * - tempo → tempo folded into [60, 120) BPM (halved or doubled: Spotify's tempo is often off by an octave),
 *   with a 4 BPM ramp at each fold (a jump cannot be a relu sum; steeper ramps lose float32 exactness);
 * - key → its position on the circle of fifths (C, G, D, …: neighbouring keys share most notes), exact at
 *   the 12 integer keys;
 * - every other feature unchanged (clipped to the training range).
 *
 * Every output is standardised again on the training songs. Curves are written on standardised inputs (the
 * fold's scaler), so the network keeps reading standardised values.
 */
import { FEATURE_NAMES } from '../contract/index.ts';
import type { FeatureCurve, QuantileTransform } from './quantile-transform.ts';
import type { Scaler } from './scaler.ts';

const col = (name: (typeof FEATURE_NAMES)[number]) => FEATURE_NAMES.indexOf(name);

/** Tempo folded into [60, 120): the raw points the curve goes through (ramps of 4 BPM at 60 and 120). */
export const TEMPO_POINTS: readonly (readonly [number, number])[] = [
  [30, 60],
  [58, 116],
  [62, 62],
  [118, 118],
  [122, 61],
  [240, 120],
];

/** Circle-of-fifths position of pitch class k (0 = C): 7k mod 12. */
export const fifthsPosition = (k: number) => (7 * k) % 12;

function quantiles(values: number[], n: number): number[] {
  const v = [...values].sort((a, b) => a - b);
  const out: number[] = [];
  for (let k = 0; k < n; k++) {
    const q = v[Math.round((k / (n - 1)) * (v.length - 1))] as number;
    if (out.length === 0 || q > (out[out.length - 1] as number)) out.push(q);
  }
  return out;
}

/** Raw (x, f(x)) points each feature's curve goes through; linear between, flat outside. */
function rawPoints(c: number, values: number[]): [number, number][] {
  if (c === col('duration_ms')) return quantiles(values, 12).map((d) => [d, Math.log(Math.max(d, 1))]);
  if (c === col('tempo')) return TEMPO_POINTS.map(([a, b]) => [a, b]);
  if (c === col('key')) return Array.from({ length: 12 }, (_, k) => [k, fifthsPosition(k)]);
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return hi > lo
    ? [
        [lo, lo],
        [hi, hi],
      ]
    : [[lo, 0]];
}

function curveValue(f: Pick<FeatureCurve, 'knots' | 'slopeChanges'>, v0: number, x: number): number {
  let out = v0;
  f.knots.forEach((t, k) => {
    if (x > t) out += (f.slopeChanges[k] as number) * (x - t);
  });
  return out;
}

/** The curves for raw training features `raw` (rows × 13) standardised by `scaler` (fitted on the same rows). */
export function fitFeatureTransform(raw: Float32Array, rows: number, scaler: Scaler): QuantileTransform {
  const cols = FEATURE_NAMES.length;
  return FEATURE_NAMES.map((_, c) => {
    const values = Array.from({ length: rows }, (_, r) => raw[r * cols + c] as number);
    const mean = scaler.mean[c] as number;
    const std = scaler.std[c] as number;
    const pts = rawPoints(c, values).map(([x, y]) => [(x - mean) / std, y] as const);
    const knots = pts.map((p) => p[0]);
    const slopes = pts
      .slice(1)
      .map((p, k) => (p[1] - (pts[k] as readonly [number, number])[1]) / (p[0] - (knots[k] as number)));
    const slopeChanges = knots.map((_, k) => (slopes[k] ?? 0) - (slopes[k - 1] ?? 0));
    const v0 = (pts[0] as readonly [number, number])[1];
    const mapped = values.map((v) => curveValue({ knots, slopeChanges }, v0, (v - mean) / std));
    const m = mapped.reduce((a, v) => a + v, 0) / rows;
    const sd = Math.sqrt(mapped.reduce((a, v) => a + (v - m) ** 2, 0) / rows);
    const scale = sd > 1e-12 ? 1 / sd : 1;
    return { knots, slopeChanges, offset: (v0 - m) * scale, scale };
  });
}
