/**
 * Step 8, parity check: loads the exported files with the loader the browser
 * uses (parseDenseModel → createDenseModel on the active backend) and compares
 * its outputs on raw test features with the in-memory trained model's outputs
 * on the same songs. Also picks the few reference rows the manifest ships for
 * the device's warm-up check.
 */
import { DEVICE_PARITY_TOLERANCE, type Manifest } from '../contract/index.ts';
import { createDenseModel, type DenseWeights, parseDenseModel } from '../runtime/dense-model.ts';
import { withTrees } from '../runtime/tree-ensemble.ts';
import type { ExportedModel } from './export-model.ts';

export const PARITY_TOLERANCE = 1e-5;
export const DEVICE_PARITY_ROWS = 8;

export interface ParityReport {
  readonly maxAbsDiff: number;
  readonly rows: number;
  readonly tolerance: number;
  readonly passed: boolean;
}

/** Parses exported files exactly as the device does; throws if they do not parse (a pipeline bug). */
export function loadExported(e: ExportedModel): DenseWeights {
  const bytes = e.weightsBin;
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const parsed = parseDenseModel(JSON.parse(e.modelJson), ab, e.treesBin);
  if (!parsed.ok) throw new Error(`exported model does not parse: ${JSON.stringify(parsed.details)}`);
  return parsed.value;
}

/** Runs the exported model on the active tfjs backend. */
export async function predictExported(e: ExportedModel, rawX: Float32Array, rows: number): Promise<Float32Array> {
  const model = await withTrees(loadExported(e), async (dense) => createDenseModel(dense));
  try {
    return await model.predict(rawX, rows);
  } finally {
    model.dispose();
  }
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((a[i] as number) - (b[i] as number));
    if (!(d <= m)) m = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
  }
  return m;
}

export async function checkParity(
  e: ExportedModel,
  rawX: Float32Array,
  rows: number,
  inMemory: Float32Array,
  tolerance = PARITY_TOLERANCE,
): Promise<ParityReport> {
  const exported = await predictExported(e, rawX, rows);
  const diff = maxAbsDiff(exported, inMemory);
  return { maxAbsDiff: diff, rows, tolerance, passed: diff <= tolerance };
}

/** The manifest's parity section: the first rows of the test split and the exported model's outputs. */
export async function deviceParitySection(
  e: ExportedModel,
  rawX: Float32Array,
  rows: number,
  cols: number,
): Promise<Manifest['parity']> {
  const n = Math.min(DEVICE_PARITY_ROWS, rows);
  const x = rawX.slice(0, n * cols);
  const y = await predictExported(e, x, n);
  const outCols = y.length / n;
  return {
    tolerance: DEVICE_PARITY_TOLERANCE,
    inputs: Array.from({ length: n }, (_, r) => Array.from(x.subarray(r * cols, (r + 1) * cols))),
    outputs: Array.from({ length: n }, (_, r) => Array.from(y.subarray(r * outCols, (r + 1) * outCols))),
  };
}
