import { describe, expect, it } from 'vitest';
import { addTreeLogits, decodeTrees, encodeTrees } from '../runtime/tree-ensemble.ts';
import { type BoostedTreeParams, trainBoostedTrees } from './boosted-trees.ts';
import { macroAuc } from './metrics.ts';
import { mulberry32 } from './prng.ts';
import { applyScaler, fitScaler } from './scaler.ts';
import type { TrainData } from './train.ts';

const F = 3;
const K = 4;
const PARAMS: BoostedTreeParams = {
  depth: 3,
  learningRate: 0.2,
  lambda: 1,
  minLeaf: 5,
  bins: 16,
  rowSample: 0.8,
  featureSample: 1,
  softmaxWeight: 1,
  maxTrees: 200,
  patience: 40,
  refitOnValidation: 1.15,
};

/**
 * Songs whose countries follow an interaction no single feature shows: country 0 when x0 > 0 and x1 > 0,
 * country 1 when exactly one of them is, country 2 on x2 (a flag, 0/1), country 3 at random (nothing to learn).
 */
function songs(n: number, seed: number): TrainData {
  const random = mulberry32(seed);
  const raw = new Float32Array(n * F);
  const y = new Float32Array(n * K);
  for (let r = 0; r < n; r++) {
    const a = random() * 2 - 1;
    const b = random() * 2 - 1;
    const flag = random() < 0.4 ? 1 : 0;
    // Raw units far from standardised ones, as duration_ms is.
    raw.set([a * 60_000 + 200_000, b, flag], r * F);
    const noisy = (p: boolean) => (random() < 0.9 ? p : !p);
    y[r * K] = noisy(a > 0 && b > 0) ? 1 : 0;
    y[r * K + 1] = noisy(a > 0 !== b > 0) ? 1 : 0;
    y[r * K + 2] = noisy(flag === 1) ? 1 : 0;
    y[r * K + 3] = random() < 0.3 ? 1 : 0;
  }
  return { x: raw, y, rows: n, raw };
}

function standardised(d: TrainData, scaler = fitScaler(d.x, d.rows, F)): TrainData {
  return { ...d, x: applyScaler(d.raw as Float32Array, scaler) };
}

const logitsOn = (t: Parameters<typeof addTreeLogits>[0], x: Float32Array, rows: number) => {
  const z = new Float64Array(rows * K);
  addTreeLogits(t, x, rows, z);
  return z;
};

describe('boosted trees', () => {
  const raw = songs(600, 1);
  const scaler = fitScaler(raw.x, raw.rows, F);
  const train = standardised(raw, scaler);
  const validation = standardised(songs(200, 2), scaler);
  const test = standardised(songs(400, 3), scaler);

  it('learns interactions and flags, early-stops on validation, then grows 1.15 × the trees on both', () => {
    const r = trainBoostedTrees(train, validation, PARAMS, 7);
    const z = logitsOn(r.trees, test.x, test.rows);
    const auc = (c: number) =>
      macroAuc(
        z.filter((_, i) => i % K === c),
        test.y.filter((_, i) => i % K === c),
        test.rows,
        1,
      );
    // 10 % label noise caps these near 0.9; a model of one feature at a time would sit near 0.75 on the first two.
    expect(auc(0)).toBeGreaterThan(0.85);
    expect(auc(1)).toBeGreaterThan(0.8);
    expect(auc(2)).toBeGreaterThan(0.85);
    expect(auc(3)).toBeLessThan(0.62);
    // The base tree plus the refit's trees: a multiple of 10 (checked every 10) times 1.15, rounded.
    expect(r.trees.roots.length).toBe(r.count + 1);
    expect(Array.from({ length: 20 }, (_, k) => Math.round((k + 1) * 10 * 1.15))).toContain(r.count);
    expect(r.count).toBeLessThan(PARAMS.maxTrees);
  });

  it('is deterministic for a seed, and another seed grows other trees', () => {
    const a = trainBoostedTrees(train, null, PARAMS, 7, 20);
    const b = trainBoostedTrees(train, null, PARAMS, 7, 20);
    const c = trainBoostedTrees(train, null, PARAMS, 8, 20);
    expect(encodeTrees(a.trees)).toEqual(encodeTrees(b.trees));
    expect(encodeTrees(a.trees)).not.toEqual(encodeTrees(c.trees));
    expect(a.count).toBe(20);
  });

  it('takes raw inputs through its raw thresholds exactly as standardised ones through its own', () => {
    const r = trainBoostedTrees(train, null, PARAMS, 7, 30);
    const rawThreshold = r.trees.rawThreshold as Float32Array;
    const onRaw = { ...r.trees, threshold: rawThreshold };
    expect(Array.from(logitsOn(onRaw, test.raw as Float32Array, test.rows))).toEqual(
      Array.from(logitsOn(r.trees, test.x, test.rows)),
    );
    // And through trees.bin, as a device reads them.
    const decoded = decodeTrees(encodeTrees(onRaw), F, K);
    expect(decoded.ok).toBe(true);
    if (decoded.ok)
      expect(Array.from(logitsOn(decoded.value, test.raw as Float32Array, test.rows))).toEqual(
        Array.from(logitsOn(r.trees, test.x, test.rows)),
      );
  });

  it('splits a flag between its two values (few distinct values get a split between each)', () => {
    const r = trainBoostedTrees(train, null, PARAMS, 7, 10);
    const flagSplits = Array.from(r.trees.feature)
      .map((f, n) => (f === 2 ? r.trees.rawThreshold?.[n] : undefined))
      .filter((v) => v !== undefined);
    expect(flagSplits.length).toBeGreaterThan(0);
    expect(new Set(flagSplits)).toEqual(new Set([1]));
  });
});
