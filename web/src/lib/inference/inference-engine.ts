/**
 * What the inference worker does, without the worker around it (so unit
 * tests drive it in Node on the cpu backend): load and verify the model
 * (model-loading.ts), bring up backends in order with fall-through, each
 * warm-up checked before use (backends.ts), route each request and measure
 * once per device which backend is faster for single rows and for big
 * batches (routing.ts), run a shadow candidate after each prediction
 * (shadow.ts), and answer predict / explain / counterfactual requests.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Backend } from '../../../../model/contract/prediction-log.ts';
import { searchCounterfactual } from '../explain/counterfactual.ts';
import { shapleyAttributions } from '../explain/shapley.ts';
import { type BackendDeps, createBackends, DEFAULT_BACKEND_ORDER } from './backends.ts';
import { EngineError, errorMessage, type Post } from './engine-error.ts';
import { loadVerifiedModel, parseVerifiedModel } from './model-loading.ts';
import { BATCH_CHUNK_ROWS, type WorkerRequest } from './protocol.ts';
import { createRouter, type RoutingDeps } from './routing.ts';
import { createShadow } from './shadow.ts';

export { DEFAULT_BACKEND_ORDER, type KernelThreads } from './backends.ts';
export type { Post } from './engine-error.ts';

export interface EngineDeps extends BackendDeps, RoutingDeps {
  readonly fetch: (url: string) => Promise<Response>;
}

export function createInferenceEngine(deps: EngineDeps) {
  const backends = createBackends(deps);
  const router = createRouter(backends, deps);
  const shadow = createShadow(backends, deps.now);
  const { exclusive } = backends;

  async function init(req: Extract<WorkerRequest, { type: 'init' }>, post: Post): Promise<void> {
    const t0 = deps.now();
    const order = req.backends ?? DEFAULT_BACKEND_ORDER;
    router.reset(order);
    // Init again (a model update being activated, or a rollback) starts from nothing: no half-old state.
    await backends.reset(req.wasmBaseUrl);
    const loaded = req.model
      ? await parseVerifiedModel(req.model)
      : await loadVerifiedModel(deps.fetch, req.modelBaseUrl);
    if (!loaded.ok) {
      post(errorMessage(req.id, loaded.code, loaded.details));
      return;
    }
    backends.serve(loaded.value);
    const { primary, stored } = await router.start(order, req.benchmark);
    if (!primary) {
      // A model that cannot run must not stay loaded: the next request answers "not initialised".
      backends.serve(undefined);
      post(errorMessage(req.id, backends.refusalCode(), { failures: backends.failureList() }));
      return;
    }
    post({
      type: 'ready',
      id: req.id,
      modelVersion: loaded.value.manifest.version,
      backends: router.choice(),
      available: backends.available(),
      failures: backends.failureList(),
      warmupMs: deps.now() - t0,
    });
    if (!stored) {
      const benchmark = await router.benchmark();
      if (benchmark) post({ type: 'benchmark', id: req.id, benchmark, failures: backends.failureList() });
    }
    // The batch backend (WebGPU, say, when our SIMD kernel serves single rows) comes up now, not at the first batch.
    else await exclusive(() => backends.ensure(router.batch()));
  }

  async function predict(req: Extract<WorkerRequest, { type: 'predict' }>, post: Post): Promise<void> {
    const { weights } = backends.served!;
    const width = weights.inputSize;
    if (req.inputs.length !== req.rows * width) {
      throw new EngineError('invalid-value', { reason: `expected ${req.rows}×${width} values` });
    }
    const backend = await exclusive(() => router.pick(req.backend, req.workload, req.rows));
    const out = new Float32Array(req.rows * weights.outputSize);
    const t0 = deps.now();
    let compute = 0;
    for (let start = 0; start < req.rows; start += BATCH_CHUNK_ROWS) {
      const n = Math.min(BATCH_CHUNK_ROWS, req.rows - start);
      const y = await exclusive(async () => {
        const c0 = deps.now();
        const r = await backends.run(backend, req.inputs.subarray(start * width, (start + n) * width), n);
        compute += deps.now() - c0;
        return r;
      });
      out.set(y, start * weights.outputSize);
      if (req.rows > BATCH_CHUNK_ROWS) post({ type: 'progress', id: req.id, done: start + n, total: req.rows });
    }
    // One-row latency is the model's own time; a batch reports wall time including progress messages.
    const latencyMs = req.rows > BATCH_CHUNK_ROWS ? deps.now() - t0 : compute;
    const sh = shadow.current();
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
    if (sh) await shadow.run(sh, req, backend, post);
  }

  /** One output column as a batch function, on the backend suited to the number of rows. */
  function countryFn(country: number) {
    const outputs = backends.served!.weights.outputSize;
    let used: Backend = router.single();
    const fn = async (x: Float32Array, rows: number) => {
      const backend = await exclusive(() => router.pick(undefined, undefined, rows));
      used = backend;
      const y = await exclusive(() => backends.run(backend, x, rows));
      const col = new Float64Array(rows);
      for (let r = 0; r < rows; r++) col[r] = y[r * outputs + country]!;
      return col;
    };
    return { fn, used: () => used };
  }

  async function handle(req: WorkerRequest, post: Post): Promise<void> {
    try {
      if (req.type === 'init') return await init(req, post);
      if (req.type === 'dispose') {
        await backends.disposeAll();
        post({ type: 'disposed', id: req.id });
        return;
      }
      if (req.type === 'shadow-load') return await shadow.load(req, router.single, post);
      if (req.type === 'memory') {
        const m = await exclusive(async () => tf.memory());
        post({ type: 'memory', id: req.id, numTensors: m.numTensors, numBytes: m.numBytes });
        return;
      }
      const served = backends.served;
      if (!served || !backends.ready()) throw new EngineError('model-load-failed', { reason: 'not initialised' });
      if (req.type === 'predict') return await predict(req, post);
      const outputs = served.weights.outputSize;
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
