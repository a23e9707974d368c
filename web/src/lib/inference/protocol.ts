/**
 * The typed messages between the UI and the inference worker. Every request
 * carries an `id`; the worker answers with the same id (one final message,
 * plus `progress` messages for long batches). Errors come back as contract
 * codes, never as thrown exceptions across the boundary.
 */
import { z } from 'zod';
import type { ErrorCode } from '../../../../model/contract/errors.ts';
import { type Backend, BackendSchema } from '../../../../model/contract/prediction-log.ts';
import type { CounterfactualOptions, CounterfactualResult, FeatureDomain } from '../explain/counterfactual.ts';
import type { Attributions } from '../explain/shapley.ts';

/** Model files as they travel to the worker (see inference-engine's parseVerifiedModel). */
export interface ModelBytes {
  readonly manifest: unknown;
  readonly files: Readonly<Record<string, ArrayBuffer | Uint8Array>>;
}

export type Workload = 'single' | 'batch';

export const BackendTimingSchema = z.object({
  backend: BackendSchema,
  /** A one-row prediction, ms (the fastest of several rounds). */
  singleMs: z.number().nonnegative(),
  /** Time per row of a large batch, ms (the fastest of several rounds). */
  batchMsPerRow: z.number().nonnegative(),
});
export type BackendTiming = z.infer<typeof BackendTimingSchema>;

/**
 * Measured once per device, model version and list of backends; the UI stores it in IndexedDB and passes it
 * back at start. Checked when read back: a record from an older app (another shape, or fewer backends tried)
 * is measured again rather than trusted.
 */
export const BackendBenchmarkSchema = z.object({
  userAgent: z.string(),
  modelVersion: z.string(),
  measuredAt: z.string(),
  /** The backends the benchmark could try, in order: an update that adds one (say 'simd') measures again. */
  tried: z.array(BackendSchema),
  timings: z.array(BackendTimingSchema),
  single: BackendSchema,
  batch: BackendSchema,
});
export type BackendBenchmark = z.infer<typeof BackendBenchmarkSchema>;

export interface BackendFailure {
  readonly backend: Backend;
  readonly reason: string;
}

export type WorkerRequest =
  | {
      type: 'init';
      id: number;
      /** Folder holding manifest.json, model.json, weights.bin. */
      modelBaseUrl: string;
      /** Folder holding the tfjs .wasm binaries (our own origin). */
      wasmBaseUrl: string;
      /** A stored benchmark; when absent (or stale) the worker measures one after it is ready. */
      benchmark: BackendBenchmark | null;
      /** Restrict the backends tried, in order (tests, diagnostics). Default webgpu → simd → wasm → js → cpu. */
      backends?: Backend[];
      /** A verified model version from the model store; when absent the bundled one at modelBaseUrl is loaded. */
      model?: ModelBytes;
    }
  /** Loads (and parity-checks) a shadow candidate that runs after every prediction; `null` stops shadowing. */
  | { type: 'shadow-load'; id: number; model: ModelBytes | null }
  | { type: 'predict'; id: number; inputs: Float32Array; rows: number; workload?: Workload; backend?: Backend }
  | {
      type: 'explain';
      id: number;
      input: number[];
      country: number;
      baseline: number[];
      permutations?: number;
    }
  | {
      type: 'counterfactual';
      id: number;
      input: number[];
      country: number;
      domains: FeatureDomain[];
      options?: CounterfactualOptions;
    }
  | { type: 'memory'; id: number }
  | { type: 'dispose'; id: number };

export type WorkerResponse =
  | {
      type: 'ready';
      id: number;
      modelVersion: string;
      /** The backend each workload runs on now. */
      backends: Record<Workload, Backend>;
      available: Backend[];
      failures: BackendFailure[];
      warmupMs: number;
    }
  | { type: 'benchmark'; id: number; benchmark: BackendBenchmark; failures: BackendFailure[] }
  | {
      type: 'prediction';
      id: number;
      outputs: Float32Array;
      rows: number;
      backend: Backend;
      latencyMs: number;
      /** Set when a shadow candidate will answer the same rows in a following `shadow` message. */
      shadowVersion: string | null;
    }
  /** The shadow candidate's outputs for a prediction (sent after it); `outputs` null when the candidate failed. */
  | {
      type: 'shadow';
      id: number;
      modelVersion: string;
      outputs: Float32Array | null;
      latencyMs: number;
      error?: ErrorCode;
    }
  | { type: 'shadow-ready'; id: number; modelVersion: string | null }
  | { type: 'progress'; id: number; done: number; total: number }
  | { type: 'attributions'; id: number; result: Attributions; backend: Backend }
  | { type: 'counterfactual'; id: number; result: CounterfactualResult; backend: Backend }
  | { type: 'memory'; id: number; numTensors: number; numBytes: number }
  | { type: 'disposed'; id: number }
  | { type: 'error'; id: number; code: ErrorCode; message: string; details?: unknown };

export type RequestType = WorkerRequest['type'];

/** Rows per chunk of a large batch: big enough to keep the backend busy, small enough for smooth progress. */
export const BATCH_CHUNK_ROWS = 2048;
