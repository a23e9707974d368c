/**
 * What the inference worker does, without the worker around it (so unit
 * tests drive it in Node on the cpu backend): load and verify the model,
 * bring up backends in order with fall-through (each parity-checked against
 * the manifest before use), warm up, answer predict / explain /
 * counterfactual requests, and measure once per device which backend is
 * faster for single rows and for big batches. All tfjs work runs one task at
 * a time because the active backend is global to tfjs.
 */
import * as tf from '@tensorflow/tfjs-core';
import { sha256Hex } from '../../../../model/contract/canonical.ts';
import { type ErrorCode, fail, ok, type Result } from '../../../../model/contract/errors.ts';
import { type Manifest, ManifestSchema } from '../../../../model/contract/manifest.ts';
import type { Backend } from '../../../../model/contract/prediction-log.ts';
import { createJsDenseModel } from '../../../../model/runtime/dense-js.ts';
import {
  createDenseModel,
  type DenseModel,
  type DenseWeights,
  parseDenseModel,
} from '../../../../model/runtime/dense-model.ts';
import { createSimdDenseModel } from '../../../../model/runtime/dense-simd.ts';
import {
  createThreadedSimdDenseModel,
  MIN_SPLIT_ROWS,
  type SpawnKernelThread,
} from '../../../../model/runtime/dense-simd-threads.ts';
import { warmUpCheck } from '../../../../model/runtime/warm-up-check.ts';
import { searchCounterfactual } from '../explain/counterfactual.ts';
import { shapleyAttributions } from '../explain/shapley.ts';
import {
  BATCH_CHUNK_ROWS,
  type BackendBenchmark,
  type BackendFailure,
  type BackendTiming,
  type ModelBytes,
  type WorkerRequest,
  type WorkerResponse,
  type Workload,
} from './protocol.ts';

/**
 * Start-up order: the first backend that loads and passes parity serves until the per-device benchmark has
 * run. 'simd' is our own WebAssembly SIMD kernel (fast for one row and for batches, nothing to download);
 * 'simd-threads' is the same kernel on several threads where the page is cross-origin isolated (it starts
 * helper workers, so it comes after 'simd' and never delays the first prediction); tfjs's 'wasm' follows
 * (single-threaded, see inference.worker.ts); 'js' is our plain-JS kernel for browsers without WebAssembly SIMD;
 * 'cpu' is tfjs's, the last resort.
 */
export const DEFAULT_BACKEND_ORDER: readonly Backend[] = ['webgpu', 'simd', 'simd-threads', 'wasm', 'js', 'cpu'];

/** Backends that are not tfjs backends and so need no tfjs.setBackend. */
const isTfjs = (name: Backend) => name !== 'js' && name !== 'simd' && name !== 'simd-threads';

/** How the host runs our kernel on several threads: how many, and how a helper thread is started. */
export interface KernelThreads {
  readonly threads: number;
  readonly spawn: SpawnKernelThread;
}

export interface EngineDeps {
  readonly fetch: (url: string) => Promise<Response>;
  /** Imports and registers a tfjs backend; throws (with a reason) when this device cannot run it. */
  readonly loadBackend: (name: Backend, wasmBaseUrl: string) => Promise<void>;
  /**
   * Compiles our WebAssembly SIMD kernel: 'own' memory for 'simd', 'shared' memory for 'simd-threads'; rejects
   * (with a reason) where the device has no SIMD or no WebAssembly threads.
   */
  readonly denseKernel: (memory: 'own' | 'shared') => Promise<WebAssembly.Module>;
  /** Threads for 'simd-threads'; throws (with a reason) where there are none: a page not cross-origin isolated, one core. */
  readonly kernelThreads: () => KernelThreads;
  readonly now: () => number;
  readonly userAgent: string;
  /** Rows used to time a big batch per backend (smaller in tests). */
  readonly benchmarkRows?: number;
}

export type Post = (msg: WorkerResponse, transfer?: Transferable[]) => void;

/**
 * Below MIN_SPLIT_ROWS rows 'simd-threads' runs on the calling thread alone, so it is 'simd' under another name
 * and their timings differ only by noise: where 'simd' serves too, such calls go to 'simd', and the log names
 * what really ran.
 */
const sameAsSimd = (name: Backend, rows: number, timings: readonly BackendTiming[]) =>
  name === 'simd-threads' && rows < MIN_SPLIT_ROWS && timings.some((t) => t.backend === 'simd');

class EngineError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly details?: unknown,
  ) {
    super(code);
  }
}

async function fetchBytes(deps: EngineDeps, url: string): Promise<ArrayBuffer> {
  let res: Response;
  try {
    res = await deps.fetch(url);
  } catch (err) {
    throw new EngineError('model-load-failed', { url, reason: String(err) });
  }
  if (!res.ok) throw new EngineError('model-load-failed', { url, status: res.status });
  return res.arrayBuffer();
}

/** Checks every file against the manifest's size and sha256 and parses the weights. */
export async function parseVerifiedModel(
  model: ModelBytes,
): Promise<Result<{ manifest: Manifest; weights: DenseWeights }>> {
  const parsed = ManifestSchema.safeParse(model.manifest);
  if (!parsed.success) return fail('manifest-invalid', { issues: parsed.error.issues.slice(0, 5) });
  const manifest = parsed.data;
  const bytes = new Map<string, ArrayBuffer>();
  for (const f of manifest.files) {
    const raw = model.files[f.path];
    if (!raw) return fail('download-incomplete', { file: f.path, reason: 'missing' });
    const b = raw instanceof Uint8Array ? raw.slice().buffer : raw;
    if (b.byteLength !== f.bytes) {
      return fail(b.byteLength < f.bytes ? 'download-incomplete' : 'hash-mismatch', { file: f.path });
    }
    if ((await sha256Hex(b)) !== f.sha256) return fail('hash-mismatch', { file: f.path });
    bytes.set(f.path, b);
  }
  const modelJson = bytes.get('model.json');
  const weightsBin = bytes.get('weights.bin');
  if (!modelJson || !weightsBin) return fail('manifest-invalid', { reason: 'manifest lacks model.json/weights.bin' });
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(modelJson));
  } catch {
    return fail('model-load-failed', { reason: 'model.json is not JSON' });
  }
  const w = parseDenseModel(json, weightsBin);
  if (!w.ok) return w;
  return ok({ manifest, weights: w.value });
}

/** Fetches manifest + files (the bundled model), checks every file against the manifest's sha256 and parses the weights. */
export async function loadVerifiedModel(
  deps: EngineDeps,
  baseUrl: string,
): Promise<Result<{ manifest: Manifest; weights: DenseWeights }>> {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  try {
    const manifestBytes = await fetchBytes(deps, `${base}manifest.json`);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(manifestBytes));
    } catch {
      return fail('manifest-invalid', { reason: 'not JSON' });
    }
    const parsed = ManifestSchema.safeParse(json);
    if (!parsed.success) return fail('manifest-invalid', { issues: parsed.error.issues.slice(0, 5) });
    const files: Record<string, ArrayBuffer> = {};
    await Promise.all(
      parsed.data.files.map(async (f) => {
        files[f.path] = await fetchBytes(deps, `${base}${f.path}`);
      }),
    );
    return await parseVerifiedModel({ manifest: parsed.data, files });
  } catch (err) {
    if (err instanceof EngineError) return fail(err.code, err.details);
    return fail('model-load-failed', { reason: String(err) });
  }
}

function errorMessage(id: number, code: ErrorCode, details?: unknown, message?: string): WorkerResponse {
  const f = fail(code, details, message);
  return { type: 'error', id, code: f.code, message: f.message, details: f.details };
}

export function createInferenceEngine(deps: EngineDeps) {
  let manifest: Manifest | undefined;
  let weights: DenseWeights | undefined;
  let wasmBaseUrl = '/wasm/';
  let order: Backend[] = [...DEFAULT_BACKEND_ORDER];
  const models = new Map<Backend, DenseModel>();
  const failures = new Map<Backend, string>();
  /** Why a backend was not used, as a code: a model that fails parity or gives NaN everywhere is refused as such. */
  const failureCodes = new Map<Backend, ErrorCode>();
  let shadow: { manifest: Manifest; weights: DenseWeights; models: Map<Backend, DenseModel> } | null = null;
  const choice: Record<Workload, Backend> = { single: 'cpu', batch: 'cpu' };
  /** This device's measured speeds (stored or just measured), used to route each request by its size. */
  let timings: readonly BackendTiming[] = [];
  let queue: Promise<unknown> = Promise.resolve();
  /** Our SIMD kernel (both variants), compiled once each and instantiated per model (the served one and a shadow). */
  const kernels: Partial<Record<'own' | 'shared', Promise<WebAssembly.Module>>> = {};
  const kernel = (memory: 'own' | 'shared') => {
    const k = kernels[memory] ?? deps.denseKernel(memory);
    kernels[memory] = k;
    return k;
  };

  /** Runs tfjs work one task at a time: the active backend is global. */
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = queue.then(fn);
    queue = p.catch(() => undefined);
    return p;
  };

  async function activate(name: Backend): Promise<void> {
    if (isTfjs(name) && tf.getBackend() !== name) {
      const done = await tf.setBackend(name);
      if (!done) throw new EngineError('backend-unavailable', { backend: name });
    }
  }

  /** Brings a backend up (once) and checks it reproduces the manifest's parity outputs. */
  async function ensureBackend(name: Backend): Promise<boolean> {
    if (models.has(name)) return true;
    if (failures.has(name) || !weights || !manifest) return false;
    try {
      const model = await placeModel(name, weights);
      const { inputs, outputs, tolerance } = manifest.parity;
      const y = await model.predict(Float32Array.from(inputs.flat()), inputs.length);
      const expected = outputs.flat();
      let worst = 0;
      for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(y[i]! - expected[i]!));
      if (y.some((v) => !Number.isFinite(v))) {
        model.dispose();
        failureCodes.set(name, 'model-output-invalid');
        throw new Error('the model produced NaN or infinite outputs');
      }
      // Float32 on a GPU differs from the pipeline's float32 CPU run in the last bits; 1e-4 is the floor.
      if (!(worst <= Math.max(tolerance, 1e-4))) {
        model.dispose();
        failureCodes.set(name, 'parity-failed');
        throw new Error(`parity check failed (max abs diff ${worst})`);
      }
      models.set(name, model);
      return true;
    } catch (err) {
      failures.set(name, err instanceof Error ? err.message : String(err));
      return false;
    }
  }

  /** Puts weights on a backend: uploaded to a tfjs backend (loaded on first use), or into one of our kernels. */
  async function placeModel(name: Backend, w: DenseWeights): Promise<DenseModel> {
    if (name === 'simd') return createSimdDenseModel(w, await kernel('own'));
    if (name === 'simd-threads') {
      const { threads, spawn } = deps.kernelThreads();
      return createThreadedSimdDenseModel(w, await kernel('shared'), { threads, spawn });
    }
    if (name === 'js') return createJsDenseModel(w);
    await deps.loadBackend(name, wasmBaseUrl);
    if (!(await tf.setBackend(name))) throw new Error('setBackend returned false');
    await tf.ready();
    return createDenseModel(w);
  }

  async function runRows(name: Backend, x: Float32Array, rows: number): Promise<Float32Array> {
    const model = models.get(name);
    if (!model) throw new EngineError('backend-unavailable', { backend: name });
    await activate(name);
    // Reading back synchronously saves a task hop on cpu/wasm; a GPU must be read asynchronously.
    return name === 'webgpu' ? model.predict(x, rows) : model.predictSync(x, rows);
  }

  function failureList(): BackendFailure[] {
    return [...failures].map(([backend, reason]) => ({ backend, reason }));
  }

  /**
   * The backend for `rows` rows by this device's timings: a call's fixed cost (about its one-row time) plus
   * the per-row cost. So a backend with a low fixed cost takes single rows and one with a low per-row cost
   * (WebGPU, say) big batches, wherever the crossover lies on this device. Before any timing exists, a size
   * rule stands in.
   */
  function cheapest(rows: number): Backend {
    const usable = timings.filter(
      (t) => order.includes(t.backend) && !failures.has(t.backend) && !sameAsSimd(t.backend, rows, timings),
    );
    if (usable.length === 0) return rows > 64 ? choice.batch : choice.single;
    const cost = (t: BackendTiming) => t.singleMs + (rows - 1) * t.batchMsPerRow;
    return usable.reduce((a, b) => (cost(b) < cost(a) ? b : a)).backend;
  }

  /** The backend asked for, else the workload's choice, else the cheapest for this many rows. */
  async function pick(requested: Backend | undefined, workload: Workload | undefined, rows: number): Promise<Backend> {
    if (requested) {
      if (!(await ensureBackend(requested))) {
        throw new EngineError('backend-unavailable', { backend: requested, reason: failures.get(requested) });
      }
      return requested;
    }
    const want = workload ? choice[workload] : cheapest(rows);
    if (await ensureBackend(want)) return want;
    return choice.single;
  }

  /**
   * Times every backend in turn, round by round, so a change in the machine's load falls on all of them
   * alike, and keeps each one's fastest round: on a shared machine noise only ever adds time. The first round
   * is untimed: V8 runs a WebAssembly kernel's first calls in its baseline tier and swaps in optimised code in
   * the background, and tfjs sets up its operators on first use. Each call is its own task, so user
   * predictions are never held up behind the whole benchmark.
   */
  async function measure(names: readonly Backend[]): Promise<BackendTiming[]> {
    const width = weights!.inputSize;
    // Enough rows to reach each backend's steady per-row speed without stalling start-up on the slow ones.
    const rowsFor = (name: Backend) =>
      deps.benchmarkRows ??
      (name === 'wasm' || name === 'simd' || name === 'simd-threads' ? 4096 : name === 'webgpu' ? 1024 : 512);
    const most = Math.max(...names.map(rowsFor));
    const x = new Float32Array(most * width);
    const base = manifest!.parity.inputs;
    for (let r = 0; r < most; r++) x.set(base[r % base.length]!, r * width);
    const one = x.subarray(0, width);
    const single = new Map(names.map((n) => [n, Number.POSITIVE_INFINITY]));
    const batch = new Map(names.map((n) => [n, Number.POSITIVE_INFINITY]));
    const time = (fn: () => Promise<unknown>) =>
      exclusive(async () => {
        const t0 = deps.now();
        await fn();
        return deps.now() - t0;
      });
    for (let round = 0; round < 6; round++) {
      for (const name of names) {
        // Blocks of 20 calls: a worker's clock is coarsened to 0.1 ms where the page is not cross-origin isolated.
        const ms = await time(async () => {
          for (let k = 0; k < 20; k++) await runRows(name, one, 1);
        });
        if (round > 0) single.set(name, Math.min(single.get(name)!, ms / 20));
      }
    }
    for (let round = 0; round < 3; round++) {
      for (const name of names) {
        const rows = rowsFor(name);
        const ms = await time(() => runRows(name, x.subarray(0, rows * width), rows));
        if (round > 0) batch.set(name, Math.min(batch.get(name)!, ms / rows));
      }
    }
    return names.map((n) => ({ backend: n, singleMs: single.get(n)!, batchMsPerRow: batch.get(n)! }));
  }

  async function benchmark(id: number, post: Post): Promise<void> {
    const names: Backend[] = [];
    for (const name of order) if (await exclusive(() => ensureBackend(name))) names.push(name);
    const measured = names.length > 0 ? await measure(names) : [];
    if (measured.length === 0) return;
    const best = (key: 'singleMs' | 'batchMsPerRow', rows: number) =>
      measured.filter((t) => !sameAsSimd(t.backend, rows, measured)).reduce((a, b) => (b[key] < a[key] ? b : a))
        .backend;
    choice.single = best('singleMs', 1);
    choice.batch = best('batchMsPerRow', deps.benchmarkRows ?? 4096);
    timings = measured;
    const result: BackendBenchmark = {
      userAgent: deps.userAgent,
      modelVersion: manifest!.version,
      measuredAt: new Date().toISOString(),
      tried: [...order],
      timings: measured,
      single: choice.single,
      batch: choice.batch,
    };
    post({ type: 'benchmark', id, benchmark: result, failures: failureList() });
  }

  async function init(req: Extract<WorkerRequest, { type: 'init' }>, post: Post): Promise<void> {
    const t0 = deps.now();
    wasmBaseUrl = req.wasmBaseUrl;
    order = [...(req.backends ?? DEFAULT_BACKEND_ORDER)];
    // Init again (a model update being activated, or a rollback) starts from nothing: no half-old state.
    await exclusive(async () => {
      for (const m of models.values()) m.dispose();
      models.clear();
    });
    failures.clear();
    failureCodes.clear();
    timings = [];
    manifest = undefined;
    weights = undefined;
    const loaded = req.model ? await parseVerifiedModel(req.model) : await loadVerifiedModel(deps, req.modelBaseUrl);
    if (!loaded.ok) {
      post(errorMessage(req.id, loaded.code, loaded.details));
      return;
    }
    manifest = loaded.value.manifest;
    weights = loaded.value.weights;
    const b = req.benchmark;
    const stored =
      b &&
      b.userAgent === deps.userAgent &&
      b.modelVersion === manifest.version &&
      b.tried.length === order.length &&
      b.tried.every((name, i) => name === order[i])
        ? b
        : null;
    const preferred = stored ? [stored.single, ...order.filter((b) => b !== stored.single)] : order;
    let primary: Backend | undefined;
    for (const name of preferred) {
      if (!order.includes(name)) continue;
      if (await exclusive(() => ensureBackend(name))) {
        primary = name;
        break;
      }
    }
    if (!primary) {
      const codes = [...failureCodes.values()];
      const code = codes.includes('model-output-invalid')
        ? 'model-output-invalid'
        : codes.includes('parity-failed')
          ? 'parity-failed'
          : 'backend-unavailable';
      // A model that cannot run must not stay loaded: the next request answers "not initialised".
      manifest = undefined;
      weights = undefined;
      post(errorMessage(req.id, code, { failures: failureList() }));
      return;
    }
    choice.single = primary;
    choice.batch = stored && order.includes(stored.batch) ? stored.batch : primary;
    timings = stored?.timings ?? [];
    post({
      type: 'ready',
      id: req.id,
      modelVersion: manifest.version,
      backends: { ...choice },
      available: [...models.keys()],
      failures: failureList(),
      warmupMs: deps.now() - t0,
    });
    if (!stored) await benchmark(req.id, post);
    // The batch backend (WebGPU, say, when our SIMD kernel serves single rows) comes up now, not at the first batch.
    else await exclusive(() => ensureBackend(choice.batch));
  }

  async function predict(req: Extract<WorkerRequest, { type: 'predict' }>, post: Post): Promise<void> {
    const width = weights!.inputSize;
    if (req.inputs.length !== req.rows * width) {
      throw new EngineError('invalid-value', { reason: `expected ${req.rows}×${width} values` });
    }
    const backend = await exclusive(() => pick(req.backend, req.workload, req.rows));
    const out = new Float32Array(req.rows * weights!.outputSize);
    const t0 = deps.now();
    let compute = 0;
    for (let start = 0; start < req.rows; start += BATCH_CHUNK_ROWS) {
      const n = Math.min(BATCH_CHUNK_ROWS, req.rows - start);
      const y = await exclusive(async () => {
        const c0 = deps.now();
        const r = await runRows(backend, req.inputs.subarray(start * width, (start + n) * width), n);
        compute += deps.now() - c0;
        return r;
      });
      out.set(y, start * weights!.outputSize);
      if (req.rows > BATCH_CHUNK_ROWS) post({ type: 'progress', id: req.id, done: start + n, total: req.rows });
    }
    // One-row latency is the model's own time; a batch reports wall time including progress messages.
    const latencyMs = req.rows > BATCH_CHUNK_ROWS ? deps.now() - t0 : compute;
    const sh = shadow;
    post(
      {
        type: 'prediction',
        id: req.id,
        outputs: out,
        rows: req.rows,
        backend,
        latencyMs,
        shadowVersion: sh ? sh.manifest.version : null,
      },
      [out.buffer],
    );
    // The shadow candidate runs only after the active result is on its way, so the UI never waits for it.
    if (sh) await runShadow(sh, req, backend, post);
  }

  /** Creates the shadow model on a backend (once) and checks its own parity outputs there. */
  async function shadowModel(sh: NonNullable<typeof shadow>, backend: Backend): Promise<DenseModel> {
    const existing = sh.models.get(backend);
    if (existing) return existing;
    const model = await placeModel(backend, sh.weights);
    const parity = { ...sh.manifest.parity, tolerance: Math.max(sh.manifest.parity.tolerance, 1e-4) };
    const check = await warmUpCheck(model, parity);
    if (!check.ok) {
      model.dispose();
      throw new EngineError(check.code, check.details);
    }
    sh.models.set(backend, model);
    return model;
  }

  async function runShadow(
    sh: NonNullable<typeof shadow>,
    req: Extract<WorkerRequest, { type: 'predict' }>,
    backend: Backend,
    post: Post,
  ): Promise<void> {
    const width = sh.weights.inputSize;
    const out = new Float32Array(req.rows * sh.weights.outputSize);
    let compute = 0;
    try {
      for (let start = 0; start < req.rows; start += BATCH_CHUNK_ROWS) {
        const n = Math.min(BATCH_CHUNK_ROWS, req.rows - start);
        const y = await exclusive(async () => {
          const model = await shadowModel(sh, backend);
          await activate(backend);
          const c0 = deps.now();
          const x = req.inputs.subarray(start * width, (start + n) * width);
          const r = backend === 'webgpu' ? await model.predict(x, n) : model.predictSync(x, n);
          compute += deps.now() - c0;
          return r;
        });
        out.set(y, start * sh.weights.outputSize);
      }
      post(
        { type: 'shadow', id: req.id, modelVersion: sh.manifest.version, outputs: out, latencyMs: compute / req.rows },
        [out.buffer],
      );
    } catch (err) {
      const code = err instanceof EngineError ? err.code : 'internal';
      post({ type: 'shadow', id: req.id, modelVersion: sh.manifest.version, outputs: null, latencyMs: 0, error: code });
    }
  }

  async function loadShadow(req: Extract<WorkerRequest, { type: 'shadow-load' }>, post: Post): Promise<void> {
    await exclusive(async () => {
      for (const m of shadow?.models.values() ?? []) m.dispose();
      shadow = null;
    });
    if (!req.model) {
      post({ type: 'shadow-ready', id: req.id, modelVersion: null });
      return;
    }
    const loaded = await parseVerifiedModel(req.model);
    if (!loaded.ok) {
      post(errorMessage(req.id, loaded.code, loaded.details));
      return;
    }
    const candidate = { ...loaded.value, models: new Map<Backend, DenseModel>() };
    try {
      // Checked now on the single-row backend, so a broken candidate is refused before any prediction.
      await exclusive(() => shadowModel(candidate, choice.single));
    } catch (err) {
      const code = err instanceof EngineError ? err.code : 'model-load-failed';
      post(errorMessage(req.id, code, err instanceof EngineError ? err.details : { reason: String(err) }));
      return;
    }
    shadow = candidate;
    post({ type: 'shadow-ready', id: req.id, modelVersion: candidate.manifest.version });
  }

  /** One output column as a batch function, on the backend suited to the number of rows. */
  function countryFn(country: number) {
    let used: Backend = choice.single;
    const fn = async (x: Float32Array, rows: number) => {
      const backend = await exclusive(() => pick(undefined, undefined, rows));
      used = backend;
      const y = await exclusive(() => runRows(backend, x, rows));
      const col = new Float64Array(rows);
      for (let r = 0; r < rows; r++) col[r] = y[r * weights!.outputSize + country]!;
      return col;
    };
    return { fn, used: () => used };
  }

  async function handle(req: WorkerRequest, post: Post): Promise<void> {
    try {
      if (req.type === 'init') return await init(req, post);
      if (req.type === 'dispose') {
        await exclusive(async () => {
          for (const m of models.values()) m.dispose();
          models.clear();
        });
        post({ type: 'disposed', id: req.id });
        return;
      }
      if (req.type === 'shadow-load') return await loadShadow(req, post);
      if (req.type === 'memory') {
        const m = await exclusive(async () => tf.memory());
        post({ type: 'memory', id: req.id, numTensors: m.numTensors, numBytes: m.numBytes });
        return;
      }
      if (!weights || models.size === 0) throw new EngineError('model-load-failed', { reason: 'not initialised' });
      if (req.type === 'predict') return await predict(req, post);
      const outputs = weights.outputSize;
      if (!Number.isInteger(req.country) || req.country < 0 || req.country >= outputs) {
        throw new EngineError('unknown-country', { country: req.country });
      }
      const col = countryFn(req.country);
      if (req.type === 'explain') {
        const result = await shapleyAttributions(col.fn, req.input, req.baseline, {
          permutations: req.permutations ?? 64,
        });
        post({ type: 'attributions', id: req.id, result, backend: col.used() });
        return;
      }
      const result = await searchCounterfactual(col.fn, req.input, req.domains, req.options);
      post({ type: 'counterfactual', id: req.id, result, backend: col.used() });
    } catch (err) {
      if (err instanceof EngineError) post(errorMessage(req.id, err.code, err.details));
      else
        post(
          errorMessage(req.id, 'internal', { reason: String(err) }, `Inference failed unexpectedly: ${String(err)}`),
        );
    }
  }

  return { handle };
}
