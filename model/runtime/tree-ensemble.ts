/**
 * Boosted trees beside the Dense stack: a model's logit per country is the stack's last pre-activation plus
 * the sum of its trees' leaf values, then the sigmoid. Trees are stored flat (one node table for all trees)
 * in `trees.bin`, read by every runner of the model (the browser's backends, the pipeline, benchmarks), so
 * what the pipeline scored is what a device computes: comparisons on raw float32 inputs, sums in float64.
 *
 * trees.bin, little-endian: "JBT1", then u32 inputs, outputs, trees, nodes, leaves; then int32 roots[trees],
 * int32 feature[nodes] (−1 marks a leaf), float32 threshold[nodes], int32 left[nodes] (a leaf: its leaf
 * index), int32 right[nodes], float32 values[leaves × outputs]. A node goes left when input < threshold.
 */
import { fail, ok, type Result } from '../contract/errors.ts';
import type { DenseModel, DenseWeights } from './dense-model.ts';

export interface TreeEnsemble {
  readonly inputs: number;
  readonly outputs: number;
  /** Root node of each tree. */
  readonly roots: Int32Array;
  /** Per node: the input it splits on, or −1 for a leaf. */
  readonly feature: Int32Array;
  readonly threshold: Float32Array;
  /** Per node: the child for input < threshold; for a leaf, its row in `values`. */
  readonly left: Int32Array;
  readonly right: Int32Array;
  /** Leaves × outputs, row-major: what a leaf adds to each output's logit. */
  readonly values: Float32Array;
  /**
   * Pipeline only: the same thresholds for raw inputs, where the trees were grown on standardised ones (each
   * is the raw value of the training song whose standardised value is the threshold). Export swaps them in.
   */
  readonly rawThreshold?: Float32Array;
}

const MAGIC = 0x3154424a; // "JBT1" read as a little-endian u32
const HEADER = 24;

/** Adds every tree's leaf values to `out` (rows × outputs logits), in float64 whatever `out` holds. */
export function addTreeLogits(t: TreeEnsemble, x: ArrayLike<number>, rows: number, out: Float64Array): void {
  // Every array in a local and one row's sums in a float64 scratch row: the JIT keeps the inner loop to loads
  // and adds. Still scalar JS: ≈ 1.4 s for the 14,239-song catalogue with the shipped trees (test/bench/web.ts),
  // against ≈ 50 ms for the stack on the SIMD kernel; a single song takes ≈ 0.1 ms.
  const { roots, feature, threshold, left, right, values, inputs } = t;
  const k = t.outputs;
  const sum = new Float64Array(k);
  for (let r = 0; r < rows; r++) {
    const o = r * k;
    const xo = r * inputs;
    for (let c = 0; c < k; c++) sum[c] = out[o + c] as number;
    for (let i = 0; i < roots.length; i++) {
      let n = roots[i] as number;
      let f = feature[n] as number;
      while (f >= 0) {
        n = (x[xo + f] as number) < (threshold[n] as number) ? (left[n] as number) : (right[n] as number);
        f = feature[n] as number;
      }
      const v = (left[n] as number) * k;
      for (let c = 0; c < k; c++) sum[c] = (sum[c] as number) + (values[v + c] as number);
    }
    for (let c = 0; c < k; c++) out[o + c] = sum[c] as number;
  }
}

/**
 * Work per song: comparisons on the deepest paths (at most) and leaf values added (the trees' share, beside
 * the stack's multiply-adds), and the deepest tree.
 */
export function treeOpsPerSong(t: TreeEnsemble): { comparisons: number; adds: number; depth: number } {
  let comparisons = 0;
  let deepest = 0;
  const depth = (n: number): number =>
    (t.feature[n] as number) < 0 ? 0 : 1 + Math.max(depth(t.left[n] as number), depth(t.right[n] as number));
  for (const root of t.roots) {
    const d = depth(root);
    comparisons += d;
    deepest = Math.max(deepest, d);
  }
  return { comparisons, adds: t.roots.length * t.outputs, depth: deepest };
}

/** Σ weight_i · ensemble_i as one ensemble (trees side by side, leaf values scaled). */
export function concatTrees(parts: readonly { trees: TreeEnsemble; weight: number }[]): TreeEnsemble {
  const first = parts[0]?.trees;
  if (!first) throw new Error('no tree ensembles to join');
  const nodes = parts.reduce((a, p) => a + p.trees.feature.length, 0);
  const leaves = parts.reduce((a, p) => a + p.trees.values.length / p.trees.outputs, 0);
  const out = {
    inputs: first.inputs,
    outputs: first.outputs,
    roots: new Int32Array(parts.reduce((a, p) => a + p.trees.roots.length, 0)),
    feature: new Int32Array(nodes),
    threshold: new Float32Array(nodes),
    left: new Int32Array(nodes),
    right: new Int32Array(nodes),
    values: new Float32Array(leaves * first.outputs),
    ...(parts.every((p) => p.trees.rawThreshold) ? { rawThreshold: new Float32Array(nodes) } : {}),
  };
  let nodeOffset = 0;
  let leafOffset = 0;
  let rootOffset = 0;
  for (const { trees: t, weight } of parts) {
    if (t.inputs !== first.inputs || t.outputs !== first.outputs) throw new Error('tree ensembles differ in shape');
    t.roots.forEach((r, i) => {
      out.roots[rootOffset + i] = r + nodeOffset;
    });
    for (let n = 0; n < t.feature.length; n++) {
      const leaf = (t.feature[n] as number) < 0;
      out.feature[nodeOffset + n] = t.feature[n] as number;
      out.threshold[nodeOffset + n] = t.threshold[n] as number;
      if (out.rawThreshold) out.rawThreshold[nodeOffset + n] = t.rawThreshold?.[n] as number;
      out.left[nodeOffset + n] = (t.left[n] as number) + (leaf ? leafOffset : nodeOffset);
      out.right[nodeOffset + n] = leaf ? 0 : (t.right[n] as number) + nodeOffset;
    }
    for (let i = 0; i < t.values.length; i++) out.values[leafOffset * t.outputs + i] = (t.values[i] as number) * weight;
    nodeOffset += t.feature.length;
    leafOffset += t.values.length / t.outputs;
    rootOffset += t.roots.length;
  }
  return out;
}

/** The same ensemble with every leaf value mapped (e.g. scaled by a calibration's slope). */
export function mapTreeValues(t: TreeEnsemble, f: (v: number, output: number) => number): TreeEnsemble {
  return { ...t, values: t.values.map((v, i) => f(v, i % t.outputs)) };
}

export function encodeTrees(t: TreeEnsemble): Uint8Array {
  const nodes = t.feature.length;
  const leaves = t.values.length / t.outputs;
  const bytes = new Uint8Array(HEADER + 4 * (t.roots.length + 4 * nodes + t.values.length));
  const view = new DataView(bytes.buffer);
  [MAGIC, t.inputs, t.outputs, t.roots.length, nodes, leaves].forEach((v, i) => {
    view.setUint32(4 * i, v, true);
  });
  let o = HEADER;
  const ints = (a: Int32Array) => {
    for (const v of a) {
      view.setInt32(o, v, true);
      o += 4;
    }
  };
  const floats = (a: Float32Array) => {
    for (const v of a) {
      view.setFloat32(o, v, true);
      o += 4;
    }
  };
  ints(t.roots);
  ints(t.feature);
  floats(t.threshold);
  ints(t.left);
  ints(t.right);
  floats(t.values);
  return bytes;
}

/**
 * Reads trees.bin, checking that every index stays in range and every tree ends in leaves without a cycle, so
 * a bad file fails here with a reason instead of looping or reading past the end on a device.
 */
export function decodeTrees(data: ArrayBuffer | Uint8Array, inputs: number, outputs: number): Result<TreeEnsemble> {
  const bad = (reason: string) => fail('model-load-failed', { reason: `trees.bin: ${reason}` });
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  if (bytes.byteLength < HEADER) return bad('shorter than its header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const head = Array.from({ length: 6 }, (_, i) => view.getUint32(4 * i, true));
  const [magic, ins, outs, trees, nodes, leaves] = head as [number, number, number, number, number, number];
  if (magic !== MAGIC) return bad('not a tree file (magic)');
  if (ins !== inputs || outs !== outputs)
    return bad(`made for ${ins} inputs × ${outs} outputs, not ${inputs} × ${outputs}`);
  if (trees === 0 || nodes === 0 || leaves === 0) return bad('no trees');
  const expected = HEADER + 4 * (trees + 4 * nodes + leaves * outputs);
  if (bytes.byteLength !== expected) return bad(`${bytes.byteLength} bytes, expected ${expected}`);
  let o = HEADER;
  const ints = (n: number) => {
    const a = new Int32Array(n);
    for (let i = 0; i < n; i++, o += 4) a[i] = view.getInt32(o, true);
    return a;
  };
  const floats = (n: number) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++, o += 4) a[i] = view.getFloat32(o, true);
    return a;
  };
  const t: TreeEnsemble = {
    inputs,
    outputs,
    roots: ints(trees),
    feature: ints(nodes),
    threshold: floats(nodes),
    left: ints(nodes),
    right: ints(nodes),
    values: floats(leaves * outputs),
  };
  for (let n = 0; n < nodes; n++) {
    const f = t.feature[n] as number;
    const l = t.left[n] as number;
    const r = t.right[n] as number;
    if (f < 0) {
      if (f !== -1 || l < 0 || l >= leaves) return bad(`leaf ${n} points outside the leaf values`);
    } else if (f >= inputs || l <= n || r <= n || l >= nodes || r >= nodes) {
      // Children after their parent: no cycle, every path ends.
      return bad(`node ${n} has a bad input or child`);
    } else if (!Number.isFinite(t.threshold[n] as number)) return bad(`node ${n} has a threshold that is not finite`);
  }
  if (t.roots.some((r) => r < 0 || r >= nodes)) return bad('a tree root is outside the nodes');
  if (t.values.some((v) => !Number.isFinite(v))) return bad('a leaf value is not finite');
  return ok(t);
}

/**
 * A model with trees as its Dense stack (last layer's pre-activation, no trees) plus `finish`, which adds the
 * trees' logits on the same inputs and applies the last layer's activation. Null when the model has no trees.
 */
export function splitTrees(w: DenseWeights): {
  dense: DenseWeights;
  finish: (x: ArrayLike<number>, rows: number, pre: ArrayLike<number>) => Float32Array;
} | null {
  const { trees, ...rest } = w;
  if (!trees) return null;
  const last = w.layers[w.layers.length - 1];
  if (!last) throw new Error('a model with trees still needs its Dense output layer');
  const dense: DenseWeights = { ...rest, layers: [...w.layers.slice(0, -1), { ...last, activation: 'linear' }] };
  const finish = (x: ArrayLike<number>, rows: number, pre: ArrayLike<number>) => {
    const z = Float64Array.from(pre);
    addTreeLogits(trees, x, rows, z);
    return Float32Array.from(z, (v) =>
      last.activation === 'sigmoid' ? 1 / (1 + Math.exp(-v)) : last.activation === 'relu' ? Math.max(0, v) : v,
    );
  };
  return { dense, finish };
}

/** Runs a model on any backend that runs Dense stacks: the stack there, the trees beside it in plain JS. */
export async function withTrees(
  w: DenseWeights,
  place: (dense: DenseWeights) => Promise<DenseModel>,
): Promise<DenseModel> {
  const split = splitTrees(w);
  if (!split) return place(w);
  const inner = await place(split.dense);
  return {
    inputSize: inner.inputSize,
    outputSize: inner.outputSize,
    predict: async (x, rows) => split.finish(x, rows, await inner.predict(x, rows)),
    predictSync: (x, rows) => split.finish(x, rows, inner.predictSync(x, rows)),
    dispose: () => inner.dispose(),
  };
}
