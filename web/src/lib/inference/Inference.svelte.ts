/**
 * The UI's handle on the inference worker: reactive status (ready, backends,
 * model version, failures) and typed calls that return results or contract
 * error codes. Stores the per-device backend benchmark when the worker
 * reports one.
 */
import { type ErrorCode, fail, ok, type Result } from '../../../../model/contract/errors.ts';
import type { Backend } from '../../../../model/contract/prediction-log.ts';
import type { CounterfactualOptions, CounterfactualResult, FeatureDomain } from '../explain/counterfactual.ts';
import type { Attributions } from '../explain/shapley.ts';
import type { BackendBenchmark, BackendFailure, ModelBytes, Workload } from './protocol.ts';
import { type FinalAnswer, type ShadowAnswer, WorkerChannel, type WorkerLike } from './worker-channel.ts';

/** What the shadow candidate answered for the same rows (never shown; logged beside the active result). */
export interface ShadowOutputs {
  readonly modelVersion: string;
  readonly outputs: Float32Array;
  /** Per row. */
  readonly latencyMs: number;
}

export interface Prediction {
  readonly outputs: Float32Array;
  readonly rows: number;
  readonly backend: Backend;
  readonly latencyMs: number;
  /** Settles after the active result: the shadow's outputs, or null when no shadow ran (or it failed). */
  readonly shadow?: Promise<ShadowOutputs | null>;
}

export interface InferenceOptions {
  readonly modelBaseUrl: string;
  readonly wasmBaseUrl: string;
  readonly benchmark: BackendBenchmark | null;
  readonly backends?: Backend[];
  readonly onBenchmark?: (b: BackendBenchmark) => void;
  /** A verified model version from the model store; absent: the bundled model at modelBaseUrl. */
  readonly model?: ModelBytes;
}

function asFailure(a: FinalAnswer) {
  if (a.type === 'error') return fail(a.code, a.details, a.message);
  return fail('internal', { unexpected: a.type }, `Unexpected answer from the inference worker (${a.type}).`);
}

export interface PredictOptions {
  readonly workload?: Workload;
  readonly backend?: Backend;
  readonly onProgress?: (done: number, total: number) => void;
}

/**
 * Index of the first value that is not a probability (NaN included), or -1. An indexed loop on purpose: a
 * catalogue's answer has a million values, and for…of over them costs whole milliseconds (test/bench/README.md).
 */
function notProbability(xs: Float32Array): number {
  for (let i = 0; i < xs.length; i++) {
    const v = xs[i]!;
    if (!(v >= 0 && v <= 1)) return i;
  }
  return -1;
}

export class Inference {
  status = $state<'starting' | 'ready' | 'failed'>('starting');
  modelVersion = $state<string | null>(null);
  backends = $state<Record<Workload, Backend> | null>(null);
  available = $state<Backend[]>([]);
  failures = $state<BackendFailure[]>([]);
  benchmark = $state<BackendBenchmark | null>(null);
  warmupMs = $state<number | null>(null);
  error = $state<{ code: ErrorCode; message: string } | null>(null);
  /** The shadow candidate running beside the active model, if any. */
  shadowVersion = $state<string | null>(null);
  /** The last failure of the shadow candidate (it is then dropped; the active model is unaffected). */
  shadowError = $state<{ code: ErrorCode; message: string } | null>(null);
  readonly #channel: WorkerChannel;
  #options: InferenceOptions | null = null;
  /** Bumped when the model or its shadow changes, so a row computed ahead (below) is never served across it. */
  #generation = 0;
  /** One row computed ahead of the click (see `prefetch`), served once to a `predict` of the same row. */
  #ahead: { key: string; generation: number; result: Promise<Result<Prediction>> } | null = null;

  constructor(worker: WorkerLike) {
    this.#channel = new WorkerChannel(worker);
    this.#channel.onMessage((msg) => {
      if (msg.type !== 'benchmark') return;
      this.benchmark = msg.benchmark;
      this.backends = { single: msg.benchmark.single, batch: msg.benchmark.batch };
      this.failures = msg.failures;
      this.available = msg.benchmark.timings.map((t) => t.backend);
      this.#options?.onBenchmark?.(msg.benchmark);
    });
  }

  async start(options: InferenceOptions): Promise<Result<void>> {
    this.#options = options;
    this.#generation++;
    this.benchmark = options.benchmark;
    this.status = 'starting';
    this.error = null;
    const a = await this.#channel.request({
      type: 'init',
      modelBaseUrl: options.modelBaseUrl,
      wasmBaseUrl: options.wasmBaseUrl,
      // A benchmark read back from this class's own $state is a proxy, which cannot cross to the worker.
      benchmark: options.benchmark ? $state.snapshot(options.benchmark) : null,
      backends: options.backends ? [...options.backends] : undefined,
      ...(options.model ? { model: options.model } : {}),
    });
    if (a.type !== 'ready') {
      const f = asFailure(a);
      this.status = 'failed';
      this.error = { code: f.code, message: f.message };
      return f;
    }
    this.modelVersion = a.modelVersion;
    this.backends = a.backends;
    this.available = a.available;
    this.failures = a.failures;
    this.warmupMs = a.warmupMs;
    this.status = 'ready';
    return ok(undefined);
  }

  /**
   * Loads another model version in the worker (an update being activated, or a rollback): `model` from the
   * model store, or undefined for the bundled one. The shadow candidate, if any, is kept.
   */
  restart(model: ModelBytes | undefined): Promise<Result<void>> {
    if (!this.#options) return Promise.resolve(fail('model-load-failed', { reason: 'not started' }));
    const { model: _old, ...rest } = this.#options;
    return this.start(model ? { ...rest, benchmark: this.benchmark, model } : { ...rest, benchmark: this.benchmark });
  }

  /** Runs `model` in shadow after every prediction (after its parity check in the worker); null stops it. */
  async setShadow(model: ModelBytes | null): Promise<Result<string | null>> {
    this.#generation++;
    const a = await this.#channel.request({ type: 'shadow-load', model });
    if (a.type !== 'shadow-ready') {
      const f = asFailure(a);
      this.shadowVersion = null;
      this.shadowError = { code: f.code, message: f.message };
      return f;
    }
    this.shadowVersion = a.modelVersion;
    this.shadowError = null;
    return ok(a.modelVersion);
  }

  /**
   * Starts computing one row now, before anyone asks: the form calls this as its values change, so pressing
   * Predict finds the answer already back from the worker. Nothing is shown or logged from it unless a
   * `predict` of exactly this row follows; a later prefetch or any other prediction replaces it.
   */
  prefetch(inputs: Float32Array): void {
    if (this.status !== 'ready') return;
    const key = inputs.join(',');
    if (this.#ahead?.key === key && this.#ahead.generation === this.#generation) return;
    this.#ahead = { key, generation: this.#generation, result: this.#run(inputs, 1, {}) };
  }

  /** Rows of raw features in model order → probabilities (rows × 72). */
  predict(inputs: Float32Array, rows: number, options: PredictOptions = {}): Promise<Result<Prediction>> {
    const ahead = this.#ahead;
    this.#ahead = null;
    if (
      ahead &&
      rows === 1 &&
      !options.backend &&
      !options.workload &&
      ahead.generation === this.#generation &&
      ahead.key === inputs.join(',')
    ) {
      return ahead.result;
    }
    return this.#run(inputs, rows, options);
  }

  /**
   * Background scoring (the catalogue, for per-country percentiles): like `predict`, but it leaves a row
   * computed ahead for the form in place, so the next Predict still needs no worker call.
   */
  score(inputs: Float32Array, rows: number): Promise<Result<Prediction>> {
    return this.#run(inputs, rows, {});
  }

  async #run(inputs: Float32Array, rows: number, options: PredictOptions): Promise<Result<Prediction>> {
    let settle: (s: ShadowOutputs | null) => void = () => {};
    const shadow = new Promise<ShadowOutputs | null>((resolve) => {
      settle = resolve;
    });
    const onShadow = (m: ShadowAnswer | null) => {
      if (!m) return settle(null);
      if (!m.outputs || notProbability(m.outputs) >= 0) {
        // A candidate that fails or gives NaN is dropped; it never affects what the marketer sees.
        const code = m.error ?? 'model-output-invalid';
        this.shadowError = { code, message: fail(code).message };
        if (m.modelVersion === this.shadowVersion) void this.setShadow(null);
        return settle(null);
      }
      settle({ modelVersion: m.modelVersion, outputs: m.outputs, latencyMs: m.latencyMs });
    };
    const a = await this.#channel.request(
      { type: 'predict', inputs, rows, workload: options.workload, backend: options.backend },
      { onProgress: options.onProgress, onShadow },
    );
    if (a.type !== 'prediction') return asFailure(a);
    const bad = notProbability(a.outputs);
    if (bad >= 0) return fail('model-output-invalid', { value: a.outputs[bad] });
    return ok({ outputs: a.outputs, rows: a.rows, backend: a.backend, latencyMs: a.latencyMs, shadow });
  }

  async explain(input: number[], country: number, baseline: number[]): Promise<Result<Attributions>> {
    const a = await this.#channel.request({ type: 'explain', input, country, baseline, permutations: 64 });
    return a.type === 'attributions' ? ok(a.result) : asFailure(a);
  }

  async counterfactual(
    input: number[],
    country: number,
    domains: FeatureDomain[],
    options?: CounterfactualOptions,
  ): Promise<Result<CounterfactualResult>> {
    const a = await this.#channel.request({ type: 'counterfactual', input, country, domains, options });
    return a.type === 'counterfactual' ? ok(a.result) : asFailure(a);
  }

  async memory(): Promise<Result<{ numTensors: number; numBytes: number }>> {
    const a = await this.#channel.request({ type: 'memory' });
    return a.type === 'memory' ? ok({ numTensors: a.numTensors, numBytes: a.numBytes }) : asFailure(a);
  }
}
