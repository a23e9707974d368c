/**
 * Gradient-boosted trees with one tree for all 72 countries (each leaf holds a value per country), trained
 * on the network's loss: per-country binary cross-entropy plus a softmax term over countries against the
 * song's countries normalised to sum 1 (the term that helps the cross-country ranking, top-5 hit). Second-
 * order boosting (XGBoost's gain Σ_c G_c²/(H_c+λ) summed over countries), histogram splits on training
 * quantiles, row and feature subsampling, early stopping on validation macro AUC. The songs are few (≈ 1,500
 * per fold) and the features 13, so plain typed-array loops train a fold in seconds.
 *
 * Deterministic: every sample follows the seed. Leaf values are rounded to float32 as they are made, so the
 * trees the pipeline scores are the trees a device runs (`model/runtime/tree-ensemble.ts`).
 */
import type { TreeEnsemble } from '../runtime/tree-ensemble.ts';
import { addTreeLogits } from '../runtime/tree-ensemble.ts';
import { macroAuc } from './metrics.ts';
import { mulberry32, shuffleInPlace } from './prng.ts';
import type { TrainData } from './train.ts';

export interface BoostedTreeParams {
  readonly depth: number;
  readonly learningRate: number;
  /** L2 penalty on leaf values (λ in the gain). */
  readonly lambda: number;
  /** Fewest sampled songs on each side of a split. */
  readonly minLeaf: number;
  /** Quantile bins per feature (split candidates are their edges). */
  readonly bins: number;
  /** Share of songs each tree is grown on, and of features it may split on. */
  readonly rowSample: number;
  readonly featureSample: number;
  /** Weight of the softmax term against the per-country cross-entropy. */
  readonly softmaxWeight: number;
  readonly maxTrees: number;
  /** Trees without a better validation macro AUC (checked every 10) before stopping. */
  readonly patience: number;
  /**
   * After early stopping, grow this many times the best count again on train + validation (more songs, no
   * test song seen); 0 keeps the early-stopped trees.
   */
  readonly refitOnValidation: number;
}

export interface TreeTrainResult {
  /** Trees on standardised inputs (thresholds `threshold`), with the raw-input thresholds (`rawThreshold`). */
  readonly trees: TreeEnsemble;
  /** Trees in the ensemble, the base tree excluded (what a refit on all songs grows). */
  readonly count: number;
  readonly bestValidationMacroAuc: number;
}

const CHECK_EVERY = 10;

interface Bins {
  /** rows × features bin index: the number of thresholds ≤ the value. */
  readonly bin: Uint8Array;
  /** Per feature: ascending split values on standardised inputs, and the same songs' raw values. */
  readonly std: Float32Array[];
  readonly raw: Float32Array[];
}

/**
 * Split candidates per feature: at each quantile, the smallest value above the previous distinct value, so
 * "x < threshold" sends every training song at or below the previous value left; the raw thresholds are the
 * same songs' raw values (standardising is increasing, so the order is the same).
 */
function binFeatures(d: TrainData, features: number, bins: number): Bins {
  const std: Float32Array[] = [];
  const raw: Float32Array[] = [];
  const bin = new Uint8Array(d.rows * features);
  for (let f = 0; f < features; f++) {
    const order = Array.from({ length: d.rows }, (_, r) => r).sort(
      (a, b) => (d.x[a * features + f] as number) - (d.x[b * features + f] as number),
    );
    const s: number[] = [];
    const w: number[] = [];
    const valueAt = (i: number) => d.x[(order[i] as number) * features + f] as number;
    // Few distinct values (flags, key, mode): a split between each; else at the quantiles.
    const distinct: number[] = [];
    for (let i = 1; i < d.rows && distinct.length < bins; i++) if (valueAt(i) !== valueAt(i - 1)) distinct.push(i);
    const starts =
      distinct.length < bins - 1
        ? distinct
        : Array.from({ length: bins - 1 }, (_, q) => Math.floor(((q + 1) * d.rows) / bins));
    for (const i of starts) {
      const v = valueAt(i);
      if (v === valueAt(0) || (s.length > 0 && v <= (s[s.length - 1] as number))) continue;
      s.push(v);
      w.push(d.raw ? (d.raw[(order[i] as number) * features + f] as number) : v);
    }
    std.push(Float32Array.from(s));
    raw.push(Float32Array.from(w));
    const t = std[f] as Float32Array;
    for (let r = 0; r < d.rows; r++) {
      const v = d.x[r * features + f] as number;
      let lo = 0;
      while (lo < t.length && (t[lo] as number) <= v) lo++;
      bin[r * features + f] = lo;
    }
  }
  return { bin, std, raw };
}

interface Node {
  feature: number;
  /** Split: bin ≤ split goes left. */
  split: number;
  left: number;
  right: number;
  leaf: number;
}

/** Grows one tree on `rows` (pre-order node table), returning its nodes and leaf values (leaves × K). */
function growTree(
  b: Bins,
  features: number,
  k: number,
  g: Float64Array,
  h: Float64Array,
  rows: Int32Array,
  allowed: readonly number[],
  p: BoostedTreeParams,
): { nodes: Node[]; leaves: Float32Array[] } {
  const nodes: Node[] = [];
  const leaves: Float32Array[] = [];
  const sums = (idx: Int32Array) => {
    const gs = new Float64Array(k);
    const hs = new Float64Array(k);
    for (const r of idx) {
      const o = r * k;
      for (let c = 0; c < k; c++) {
        gs[c] = (gs[c] as number) + (g[o + c] as number);
        hs[c] = (hs[c] as number) + (h[o + c] as number);
      }
    }
    return { gs, hs };
  };
  const leaf = (gs: Float64Array, hs: Float64Array) => {
    const v = new Float32Array(k);
    for (let c = 0; c < k; c++) v[c] = (-p.learningRate * (gs[c] as number)) / ((hs[c] as number) + p.lambda);
    nodes.push({ feature: -1, split: 0, left: leaves.length, right: 0, leaf: leaves.length });
    leaves.push(v);
    return nodes.length - 1;
  };
  const build = (idx: Int32Array, depth: number): number => {
    const { gs, hs } = sums(idx);
    if (depth === p.depth || idx.length < 2 * p.minLeaf) return leaf(gs, hs);
    let parent = 0;
    for (let c = 0; c < k; c++) parent += (gs[c] as number) ** 2 / ((hs[c] as number) + p.lambda);
    let best = { gain: 1e-9, feature: -1, split: -1 };
    for (const f of allowed) {
      const nb = (b.std[f] as Float32Array).length + 1;
      if (nb < 2) continue;
      const gh = new Float64Array(nb * k);
      const hh = new Float64Array(nb * k);
      const cnt = new Int32Array(nb);
      for (const r of idx) {
        const bin = b.bin[r * features + f] as number;
        cnt[bin] = (cnt[bin] as number) + 1;
        const o = r * k;
        const d = bin * k;
        for (let c = 0; c < k; c++) {
          gh[d + c] = (gh[d + c] as number) + (g[o + c] as number);
          hh[d + c] = (hh[d + c] as number) + (h[o + c] as number);
        }
      }
      const gl = new Float64Array(k);
      const hl = new Float64Array(k);
      let left = 0;
      for (let s = 0; s < nb - 1; s++) {
        const d = s * k;
        for (let c = 0; c < k; c++) {
          gl[c] = (gl[c] as number) + (gh[d + c] as number);
          hl[c] = (hl[c] as number) + (hh[d + c] as number);
        }
        left += cnt[s] as number;
        if (left < p.minLeaf) continue;
        if (idx.length - left < p.minLeaf) break;
        let gain = -parent;
        for (let c = 0; c < k; c++) {
          const a = gl[c] as number;
          const ha = hl[c] as number;
          const r = (gs[c] as number) - a;
          const hr = (hs[c] as number) - ha;
          gain += (a * a) / (ha + p.lambda) + (r * r) / (hr + p.lambda);
        }
        if (gain > best.gain) best = { gain, feature: f, split: s };
      }
    }
    if (best.feature < 0) return leaf(gs, hs);
    const me = nodes.length;
    nodes.push({ feature: best.feature, split: best.split, left: -1, right: -1, leaf: -1 });
    const goesLeft = (r: number) => (b.bin[r * features + best.feature] as number) <= best.split;
    const l = build(Int32Array.from(Array.from(idx).filter(goesLeft)), depth + 1);
    const r = build(Int32Array.from(Array.from(idx).filter((x) => !goesLeft(x))), depth + 1);
    const node = nodes[me] as Node;
    node.left = l;
    node.right = r;
    return me;
  };
  build(rows, 0);
  return { nodes, leaves };
}

interface Grown {
  readonly nodes: Node[][];
  readonly leaves: Float32Array[][];
}

/** Flat ensemble of `count` grown trees after a one-leaf base tree (the base logit per country). */
function toEnsemble(b: Bins, features: number, k: number, base: Float32Array, grown: Grown, count: number) {
  const feature: number[] = [-1];
  const threshold: number[] = [0];
  const rawThreshold: number[] = [0];
  const left: number[] = [0];
  const right: number[] = [0];
  const roots: number[] = [0];
  const values: Float32Array[] = [base];
  for (let t = 0; t < count; t++) {
    const nodes = grown.nodes[t] as Node[];
    const offset = feature.length;
    const leafOffset = values.length;
    roots.push(offset);
    for (const n of nodes) {
      if (n.feature < 0) {
        feature.push(-1);
        threshold.push(0);
        rawThreshold.push(0);
        left.push(n.leaf + leafOffset);
        right.push(0);
      } else {
        feature.push(n.feature);
        // bin ≤ split ⇔ value < the (split)th threshold.
        threshold.push((b.std[n.feature] as Float32Array)[n.split] as number);
        rawThreshold.push((b.raw[n.feature] as Float32Array)[n.split] as number);
        left.push(n.left + offset);
        right.push(n.right + offset);
      }
    }
    values.push(...(grown.leaves[t] as Float32Array[]));
  }
  const flat = new Float32Array(values.length * k);
  values.forEach((v, i) => {
    flat.set(v, i * k);
  });
  return {
    inputs: features,
    outputs: k,
    roots: Int32Array.from(roots),
    feature: Int32Array.from(feature),
    threshold: Float32Array.from(threshold),
    left: Int32Array.from(left),
    right: Int32Array.from(right),
    values: flat,
    rawThreshold: Float32Array.from(rawThreshold),
  } satisfies TreeEnsemble;
}

function boost(
  d: TrainData,
  validation: TrainData | null,
  p: BoostedTreeParams,
  trees: number,
  seed: number,
): TreeTrainResult {
  const k = d.y.length / d.rows;
  const features = d.x.length / d.rows;
  const b = binFeatures(d, features, p.bins);
  const random = mulberry32(seed);
  // Base logit: each country's smoothed share of the songs.
  const base = new Float32Array(k);
  for (let c = 0; c < k; c++) {
    let pos = 0;
    for (let r = 0; r < d.rows; r++) pos += d.y[r * k + c] as number;
    const rate = (pos + 1) / (d.rows + 2);
    base[c] = Math.log(rate / (1 - rate));
  }
  const z = new Float64Array(d.rows * k);
  for (let i = 0; i < z.length; i++) z[i] = base[i % k] as number;
  const share = new Float64Array(d.rows * k);
  for (let r = 0; r < d.rows; r++) {
    let n = 0;
    for (let c = 0; c < k; c++) n += d.y[r * k + c] as number;
    for (let c = 0; c < k; c++) share[r * k + c] = n > 0 ? (d.y[r * k + c] as number) / n : 0;
  }
  const zv = validation ? new Float64Array(validation.rows * k) : null;
  if (zv) for (let i = 0; i < zv.length; i++) zv[i] = base[i % k] as number;
  const g = new Float64Array(d.rows * k);
  const h = new Float64Array(d.rows * k);
  const grown: Grown = { nodes: [], leaves: [] };
  const order = Array.from({ length: d.rows }, (_, r) => r);
  const featureOrder = Array.from({ length: features }, (_, f) => f);
  const sampledRows = Math.max(1, Math.floor(d.rows * p.rowSample));
  const sampledFeatures = Math.max(1, Math.round(features * p.featureSample));
  let best = { auc: Number.NEGATIVE_INFINITY, count: 0 };
  for (let t = 0; t < trees; t++) {
    for (let r = 0; r < d.rows; r++) {
      const o = r * k;
      let max = Number.NEGATIVE_INFINITY;
      for (let c = 0; c < k; c++) max = Math.max(max, z[o + c] as number);
      let sum = 0;
      for (let c = 0; c < k; c++) sum += Math.exp((z[o + c] as number) - max);
      for (let c = 0; c < k; c++) {
        const pr = 1 / (1 + Math.exp(-(z[o + c] as number)));
        const s = Math.exp((z[o + c] as number) - max) / sum;
        g[o + c] = pr - (d.y[o + c] as number) + p.softmaxWeight * (s - (share[o + c] as number));
        h[o + c] = Math.max(pr * (1 - pr), 1e-6) + p.softmaxWeight * Math.max(s * (1 - s), 1e-6);
      }
    }
    const rows = Int32Array.from(shuffleInPlace(order, random).slice(0, sampledRows)).sort();
    const allowed = shuffleInPlace(featureOrder, random)
      .slice(0, sampledFeatures)
      .sort((a, c) => a - c);
    const tree = growTree(b, features, k, g, h, rows, allowed, p);
    grown.nodes.push(tree.nodes);
    grown.leaves.push(tree.leaves);
    // The new tree's values added to every song's logits (through the same thresholds a device compares).
    const one = toEnsemble(b, features, k, new Float32Array(k), { nodes: [tree.nodes], leaves: [tree.leaves] }, 1);
    addTreeLogits(one, d.x, d.rows, z);
    if (validation && zv) {
      addTreeLogits(one, validation.x, validation.rows, zv);
      if ((t + 1) % CHECK_EVERY === 0) {
        const auc = macroAuc(zv, validation.y, validation.rows, k);
        if (auc > best.auc) best = { auc, count: t + 1 };
        else if (t + 1 - best.count >= p.patience) break;
      }
    }
  }
  const count = validation ? best.count : trees;
  return {
    trees: toEnsemble(b, features, k, base, grown, count),
    count,
    bestValidationMacroAuc: validation ? best.auc : Number.NaN,
  };
}

function concatData(a: TrainData, b: TrainData): TrainData {
  const cat = (p: Float32Array, q: Float32Array) => {
    const out = new Float32Array(p.length + q.length);
    out.set(p);
    out.set(q, p.length);
    return out;
  };
  return {
    x: cat(a.x, b.x),
    y: cat(a.y, b.y),
    rows: a.rows + b.rows,
    ...(a.raw && b.raw ? { raw: cat(a.raw, b.raw) } : {}),
  };
}

/**
 * Boosted trees on standardised inputs: early-stopped on `validation` (then, with `refitOnValidation`, grown
 * again on train + validation), or exactly `trees` trees when no validation is given (the refit on all songs).
 */
export function trainBoostedTrees(
  train: TrainData,
  validation: TrainData | null,
  p: BoostedTreeParams,
  seed: number,
  trees?: number,
): TreeTrainResult {
  if (!validation) return boost(train, null, p, trees ?? p.maxTrees, seed);
  const stopped = boost(train, validation, p, p.maxTrees, seed);
  if (!(p.refitOnValidation > 0)) return stopped;
  const count = Math.max(1, Math.round(stopped.count * p.refitOnValidation));
  const refit = boost(concatData(train, validation), null, p, count, seed);
  return { ...refit, bestValidationMacroAuc: stopped.bestValidationMacroAuc };
}
