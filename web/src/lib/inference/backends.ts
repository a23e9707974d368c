/**
 * The backends one model runs on: each brought up once (weights uploaded to a
 * tfjs backend or placed in one of our kernels) and trusted only after the
 * one warm-up check (`warmUpCheck`: the manifest's parity outputs, at least
 * DEVICE_PARITY_TOLERANCE); why each one was not used, as words and a code.
 * All tfjs work runs one task at a time (`exclusive`) because the active tfjs
 * backend is global.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ErrorCode, Failure } from '../../../../model/contract/errors.ts';
import type { Backend } from '../../../../model/contract/prediction-log.ts';
import { createJsDenseModel } from '../../../../model/runtime/dense-js.ts';
import { createDenseModel, type DenseModel, type DenseWeights } from '../../../../model/runtime/dense-model.ts';
import { createSimdDenseModel } from '../../../../model/runtime/dense-simd.ts';
import { createThreadedSimdDenseModel, type SpawnKernelThread } from '../../../../model/runtime/dense-simd-threads.ts';
import { withTrees } from '../../../../model/runtime/tree-ensemble.ts';
import { warmUpCheck } from '../../../../model/runtime/warm-up-check.ts';
import { EngineError } from './engine-error.ts';
import type { LoadedModel } from './model-loading.ts';
import type { BackendFailure } from './protocol.ts';

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

export interface BackendDeps {
  /** Imports and registers a tfjs backend; throws (with a reason) when this device cannot run it. */
  readonly loadBackend: (name: Backend, wasmBaseUrl: string) => Promise<void>;
  /**
   * Compiles our WebAssembly SIMD kernel: 'own' memory for 'simd', 'shared' memory for 'simd-threads'; rejects
   * (with a reason) where the device has no SIMD or no WebAssembly threads.
   */
  readonly denseKernel: (memory: 'own' | 'shared') => Promise<WebAssembly.Module>;
  /** Threads for 'simd-threads'; throws (with a reason) where there are none: a page not cross-origin isolated, one core. */
  readonly kernelThreads: () => KernelThreads;
}

/** Why a backend failed its warm-up check, in the words the backend failure list shows. */
function warmUpFailure(f: Failure): string {
  if (f.code === 'parity-failed') {
    return `parity check failed (max abs diff ${(f.details as { maxAbsDiff: number }).maxAbsDiff})`;
  }
  if (f.code === 'model-output-invalid') {
    return 'the model produced outputs that are not probabilities (NaN, ±∞, <0 or >1)';
  }
  return `${f.message} ${JSON.stringify(f.details)}`;
}

export type Backends = ReturnType<typeof createBackends>;

export function createBackends(deps: BackendDeps) {
  let wasmBaseUrl = '/wasm/';
  /** The served model, once loaded. */
  let served: LoadedModel | undefined;
  const models = new Map<Backend, DenseModel>();
  const failures = new Map<Backend, string>();
  /** Why a backend was not used, as a code: a model that fails parity or gives NaN everywhere is refused as such. */
  const failureCodes = new Map<Backend, ErrorCode>();
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

  /**
   * Puts weights on a backend: uploaded to a tfjs backend (loaded on first use), or into one of our kernels; a
   * model's boosted trees run beside the stack in plain JS (`withTrees`).
   */
  function place(name: Backend, w: DenseWeights): Promise<DenseModel> {
    return withTrees(w, (dense) => placeDense(name, dense));
  }

  async function placeDense(name: Backend, w: DenseWeights): Promise<DenseModel> {
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

  /** Brings a backend up for the served model (once) and runs the warm-up check on it. */
  async function ensure(name: Backend): Promise<boolean> {
    if (models.has(name)) return true;
    if (failures.has(name) || !served) return false;
    try {
      const model = await place(name, served.weights);
      const check = await warmUpCheck(model, served.manifest.parity);
      if (!check.ok) {
        model.dispose();
        failureCodes.set(name, check.code);
        throw new Error(warmUpFailure(check));
      }
      models.set(name, model);
      return true;
    } catch (err) {
      failures.set(name, err instanceof Error ? err.message : String(err));
      return false;
    }
  }

  async function run(name: Backend, x: Float32Array, rows: number): Promise<Float32Array> {
    const model = models.get(name);
    if (!model) throw new EngineError('backend-unavailable', { backend: name });
    await activate(name);
    // Reading back synchronously saves a task hop on cpu/wasm; a GPU must be read asynchronously.
    return name === 'webgpu' ? model.predict(x, rows) : model.predictSync(x, rows);
  }

  /** Disposes every backend's copy of the served model (one exclusive task). */
  const disposeAll = () =>
    exclusive(async () => {
      for (const m of models.values()) m.dispose();
      models.clear();
    });

  return {
    exclusive,
    activate,
    place,
    ensure,
    run,
    disposeAll,
    /** Forgets the served model and every backend's state, ready for a new model (an update, a rollback). */
    async reset(wasmBase: string): Promise<void> {
      wasmBaseUrl = wasmBase;
      await disposeAll();
      failures.clear();
      failureCodes.clear();
      served = undefined;
    },
    serve(model: LoadedModel | undefined): void {
      served = model;
    },
    get served(): LoadedModel | undefined {
      return served;
    },
    available: (): Backend[] => [...models.keys()],
    ready: () => models.size > 0,
    failed: (name: Backend) => failures.has(name),
    failure: (name: Backend) => failures.get(name),
    failureList: (): BackendFailure[] => [...failures].map(([backend, reason]) => ({ backend, reason })),
    /** Why no backend could serve: the model itself when it fails parity or gives invalid outputs. */
    refusalCode(): ErrorCode {
      const codes = [...failureCodes.values()];
      return codes.includes('model-output-invalid')
        ? 'model-output-invalid'
        : codes.includes('parity-failed')
          ? 'parity-failed'
          : 'backend-unavailable';
    },
  };
}
