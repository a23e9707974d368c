/**
 * Standardisation statistics of the training songs. Training runs on a
 * standardised copy; the export step folds these into the first Dense layer
 * so the shipped model takes raw values and nothing else ever scales.
 */

export interface Scaler {
  readonly mean: readonly number[];
  /** Population std; a constant feature gets 1 so it neither explodes nor vanishes. */
  readonly std: readonly number[];
}

export function fitScaler(x: Float32Array, rows: number, cols: number): Scaler {
  const mean = new Array<number>(cols).fill(0);
  const sq = new Array<number>(cols).fill(0);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) mean[c] = (mean[c] as number) + (x[r * cols + c] as number);
  }
  for (let c = 0; c < cols; c++) mean[c] = (mean[c] as number) / rows;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) sq[c] = (sq[c] as number) + ((x[r * cols + c] as number) - (mean[c] as number)) ** 2;
  }
  const std = sq.map((s) => {
    const v = Math.sqrt(s / rows);
    return v > 1e-12 ? v : 1;
  });
  return { mean, std };
}

export function applyScaler(x: Float32Array, s: Scaler): Float32Array {
  const cols = s.mean.length;
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const c = i % cols;
    out[i] = ((x[i] as number) - (s.mean[c] as number)) / (s.std[c] as number);
  }
  return out;
}
