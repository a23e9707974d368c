/**
 * The one model loader used everywhere the model runs: the browser worker,
 * the pipeline's parity check and tests. Reads the tfjs layers format
 * (model.json + weights.bin) of a stack of Dense (and inert Dropout) layers
 * and runs it with tfjs-core ops only, so the app ships neither tfjs-layers
 * nor a second copy of the scaling: the pipeline folds input scaling into the
 * first Dense layer, so callers always pass raw feature values.
 */
import * as tf from '@tensorflow/tfjs-core';
import { fail, ok, type Result } from '../contract/errors.ts';
import { addTreeLogits, decodeTrees, type TreeEnsemble } from './tree-ensemble.ts';

export type Activation = 'relu' | 'sigmoid' | 'linear';

export interface DenseLayerWeights {
  readonly inputs: number;
  readonly units: number;
  /** Row-major [inputs, units]. */
  readonly kernel: Float32Array;
  readonly bias: Float32Array;
  readonly activation: Activation;
}

/** The model as plain arrays: backend-free, easy to test and to re-export (e.g. to ONNX). */
export interface DenseWeights {
  readonly layers: readonly DenseLayerWeights[];
  readonly inputSize: number;
  readonly outputSize: number;
  /**
   * Boosted trees whose leaf values add to the last layer's pre-activation (`tree-ensemble.ts`, trees.bin).
   * Every runner goes through `withTrees`, so none can drop them silently.
   */
  readonly trees?: TreeEnsemble;
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype?: string;
}

interface LayerJson {
  class_name?: string;
  className?: string;
  config?: { units?: number; activation?: string; use_bias?: boolean; name?: string };
}

const SUPPORTED_ACTIVATIONS = new Set<string>(['relu', 'sigmoid', 'linear']);

function layersOf(modelJson: unknown): LayerJson[] | undefined {
  const topo = (modelJson as { modelTopology?: unknown })?.modelTopology as
    | { config?: { layers?: LayerJson[] } | LayerJson[]; model_config?: { config?: { layers?: LayerJson[] } } }
    | undefined;
  if (!topo) return undefined;
  const cfg = topo.model_config?.config ?? topo.config;
  if (Array.isArray(cfg)) return cfg;
  return cfg?.layers;
}

function specsOf(modelJson: unknown): WeightSpec[] | undefined {
  const wm = (modelJson as { weightsManifest?: { weights?: WeightSpec[] }[] })?.weightsManifest;
  if (!Array.isArray(wm)) return undefined;
  return wm.flatMap((g) => g.weights ?? []);
}

/**
 * Parses model.json + the concatenated weight bytes into plain arrays,
 * checking every shape. Fails with `model-load-failed` and a reason.
 *
 * @example
 * const r = parseDenseModel(JSON.parse(modelJsonText), weightsArrayBuffer);
 * if (r.ok) console.log(r.value.inputSize, r.value.outputSize); // 13 72
 */
export function parseDenseModel(
  modelJson: unknown,
  weights: ArrayBuffer,
  trees?: ArrayBuffer | Uint8Array,
): Result<DenseWeights> {
  const bad = (reason: string) => fail('model-load-failed', { reason });
  const layers = layersOf(modelJson);
  const specs = specsOf(modelJson);
  if (!layers || !specs) return bad('model.json has no modelTopology layers or weightsManifest');
  const floats = weights.byteLength % 4 === 0 ? new Float32Array(weights) : undefined;
  if (!floats) return bad('weights byte length is not a multiple of 4');

  const out: DenseLayerWeights[] = [];
  let specIndex = 0;
  let offset = 0;
  const take = (shape: number[]): Float32Array | undefined => {
    const spec = specs[specIndex];
    if (!spec || spec.shape.length !== shape.length || spec.shape.some((d, i) => d !== shape[i])) return undefined;
    if (spec.dtype !== undefined && spec.dtype !== 'float32') return undefined;
    const n = shape.reduce((a, b) => a * b, 1);
    if (offset + n > floats.length) return undefined;
    const v = floats.subarray(offset, offset + n);
    offset += n;
    specIndex += 1;
    return v;
  };

  let inputs: number | undefined;
  for (const layer of layers) {
    const cls = layer.class_name ?? layer.className;
    if (cls === 'Dropout' || cls === 'InputLayer') continue;
    if (cls !== 'Dense') return bad(`unsupported layer ${String(cls)}`);
    const units = layer.config?.units;
    const activation = layer.config?.activation ?? 'linear';
    if (!units || units <= 0) return bad('Dense layer without units');
    if (!SUPPORTED_ACTIVATIONS.has(activation)) return bad(`unsupported activation ${activation}`);
    const kernelSpec = specs[specIndex];
    if (kernelSpec?.shape.length !== 2) return bad(`missing kernel for layer ${out.length}`);
    const layerInputs = inputs ?? (kernelSpec.shape[0] as number);
    const kernel = take([layerInputs, units]);
    if (!kernel) return bad(`kernel shape mismatch at layer ${out.length}`);
    const bias = layer.config?.use_bias === false ? new Float32Array(units) : take([units]);
    if (!bias) return bad(`bias shape mismatch at layer ${out.length}`);
    out.push({ inputs: layerInputs, units, kernel, bias, activation: activation as Activation });
    inputs = units;
  }
  if (out.length === 0) return bad('no Dense layers');
  if (specIndex !== specs.length || offset !== floats.length) return bad('weights left over after the last layer');
  const inputSize = out[0]!.inputs;
  const outputSize = out[out.length - 1]!.units;
  if (trees === undefined) return ok({ layers: out, inputSize, outputSize });
  // trees.bin, when the model has one: its leaf values add to the last layer's pre-activation.
  const t = decodeTrees(trees, inputSize, outputSize);
  if (!t.ok) return t;
  return ok({ layers: out, inputSize, outputSize, trees: t.value });
}

const bufferOf = (b: ArrayBuffer | Uint8Array): ArrayBuffer =>
  b instanceof Uint8Array ? (b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer) : b;

/**
 * A model package's files by name (model.json, weights.bin, and trees.bin where the model has trees) parsed as
 * one model: what every reader of a model folder or download uses, so none forgets the trees.
 */
export function parseModelFiles(
  files: Readonly<Record<string, ArrayBuffer | Uint8Array | undefined>>,
): Result<DenseWeights> {
  const modelJson = files['model.json'];
  const weights = files['weights.bin'];
  if (!modelJson || !weights)
    return fail('model-load-failed', { reason: 'model.json and weights.bin are both needed' });
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(modelJson));
  } catch {
    return fail('model-load-failed', { reason: 'model.json is not JSON' });
  }
  const trees = files['trees.bin'];
  return parseDenseModel(json, bufferOf(weights), trees);
}

/** A model placed on the current tfjs backend. */
export interface DenseModel {
  readonly inputSize: number;
  readonly outputSize: number;
  /** Rows of raw features (row-major, rows × inputSize) → rows × outputSize probabilities. */
  predict(x: Float32Array, rows: number): Promise<Float32Array>;
  /** Same, read back synchronously (fine on cpu/wasm; avoid on webgpu). */
  predictSync(x: Float32Array, rows: number): Float32Array;
  dispose(): void;
}

/**
 * A DenseModel around one of our own synchronous kernels (plain JS, WebAssembly SIMD): the checks they share
 * (input length, use after dispose) are made here, so `run` gets rows × inputSize values.
 */
export function kernelDenseModel(w: DenseWeights, run: (x: Float32Array, rows: number) => Float32Array): DenseModel {
  refuseTrees(w);
  let disposed = false;
  const predictSync = (x: Float32Array, rows: number): Float32Array => {
    if (disposed) throw new Error('model is disposed');
    if (x.length !== rows * w.inputSize) {
      throw new Error(`expected ${rows}×${w.inputSize} inputs, got ${x.length} values`);
    }
    return run(x, rows);
  };
  return {
    inputSize: w.inputSize,
    outputSize: w.outputSize,
    predictSync,
    predict: async (x, rows) => predictSync(x, rows),
    dispose() {
      disposed = true;
    },
  };
}

/** The kernels run Dense stacks only: a model with trees must come through `withTrees`, never lose them. */
function refuseTrees(w: DenseWeights): void {
  if (w.trees) throw new Error('this model has boosted trees: place it through withTrees (tree-ensemble.ts)');
}

/** Uploads the weights to the active tfjs backend once; each predict allocates only transient tensors. */
export function createDenseModel(w: DenseWeights): DenseModel {
  refuseTrees(w);
  const layers = w.layers.map((l) => ({
    kernel: tf.tensor2d(l.kernel, [l.inputs, l.units], 'float32'),
    bias: tf.tensor1d(l.bias, 'float32'),
    activation: l.activation,
  }));
  let disposed = false;

  const forward = (x: Float32Array, rows: number): tf.Tensor2D => {
    if (disposed) throw new Error('model is disposed');
    if (x.length !== rows * w.inputSize) {
      throw new Error(`expected ${rows}×${w.inputSize} inputs, got ${x.length} values`);
    }
    return tf.tidy(() => {
      let h: tf.Tensor2D = tf.tensor2d(x, [rows, w.inputSize], 'float32');
      for (const l of layers) {
        // Sigmoid is not a fused activation on every backend: apply it separately.
        const fusedAct = l.activation === 'relu' ? 'relu' : 'linear';
        h = tf.fused.matMul({ a: h, b: l.kernel, bias: l.bias, activation: fusedAct }) as tf.Tensor2D;
        if (l.activation === 'sigmoid') h = tf.sigmoid(h) as tf.Tensor2D;
      }
      return h;
    });
  };

  return {
    inputSize: w.inputSize,
    outputSize: w.outputSize,
    async predict(x, rows) {
      const y = forward(x, rows);
      try {
        return (await y.data()) as Float32Array;
      } finally {
        y.dispose();
      }
    },
    predictSync(x, rows) {
      const y = forward(x, rows);
      try {
        return y.dataSync() as Float32Array;
      } finally {
        y.dispose();
      }
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const l of layers) {
        l.kernel.dispose();
        l.bias.dispose();
      }
    },
  };
}

/** Forward pass in plain float64 JS: the reference the tfjs backends are checked against. */
export function predictReference(w: DenseWeights, x: ArrayLike<number>): Float64Array {
  let h = Float64Array.from(x);
  w.layers.forEach((l, li) => {
    const next = new Float64Array(l.units);
    for (let j = 0; j < l.units; j++) {
      let s = l.bias[j] as number;
      for (let i = 0; i < l.inputs; i++) s += (h[i] as number) * (l.kernel[i * l.units + j] as number);
      next[j] = s;
    }
    // The trees add to the last layer's pre-activation.
    if (li === w.layers.length - 1 && w.trees) addTreeLogits(w.trees, x, 1, next);
    for (let j = 0; j < l.units; j++) {
      const s = next[j] as number;
      next[j] = l.activation === 'relu' ? Math.max(0, s) : l.activation === 'sigmoid' ? 1 / (1 + Math.exp(-s)) : s;
    }
    h = next;
  });
  return h;
}
