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
import type { BackendBenchmark, BackendFailure, Workload } from './protocol.ts';
import { type FinalAnswer, WorkerChannel, type WorkerLike } from './worker-channel.ts';

export interface Prediction {
  readonly outputs: Float32Array;
  readonly rows: number;
  readonly backend: Backend;
  readonly latencyMs: number;
}

export interface InferenceOptions {
  readonly modelBaseUrl: string;
  readonly wasmBaseUrl: string;
  readonly benchmark: BackendBenchmark | null;
  readonly backends?: Backend[];
  readonly onBenchmark?: (b: BackendBenchmark) => void;
}

function asFailure(a: FinalAnswer) {
  if (a.type === 'error') return fail(a.code, a.details, a.message);
  return fail('internal', { unexpected: a.type }, `Unexpected answer from the inference worker (${a.type}).`);
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
  readonly #channel: WorkerChannel;

  constructor(worker: WorkerLike) {
    this.#channel = new WorkerChannel(worker);
  }

  async start(options: InferenceOptions): Promise<Result<void>> {
    this.benchmark = options.benchmark;
    this.#channel.onMessage((msg) => {
      if (msg.type !== 'benchmark') return;
      this.benchmark = msg.benchmark;
      this.backends = { single: msg.benchmark.single, batch: msg.benchmark.batch };
      this.failures = msg.failures;
      this.available = msg.benchmark.timings.map((t) => t.backend);
      options.onBenchmark?.(msg.benchmark);
    });
    const a = await this.#channel.request({
      type: 'init',
      modelBaseUrl: options.modelBaseUrl,
      wasmBaseUrl: options.wasmBaseUrl,
      benchmark: options.benchmark,
      backends: options.backends,
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

  /** Rows of raw features in model order → probabilities (rows × 72). */
  async predict(
    inputs: Float32Array,
    rows: number,
    options: { workload?: Workload; backend?: Backend; onProgress?: (done: number, total: number) => void } = {},
  ): Promise<Result<Prediction>> {
    const a = await this.#channel.request(
      { type: 'predict', inputs, rows, workload: options.workload, backend: options.backend },
      { onProgress: options.onProgress },
    );
    if (a.type !== 'prediction') return asFailure(a);
    for (const v of a.outputs) {
      if (!(v >= 0 && v <= 1)) return fail('model-output-invalid', { value: v });
    }
    return ok({ outputs: a.outputs, rows: a.rows, backend: a.backend, latencyMs: a.latencyMs });
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
