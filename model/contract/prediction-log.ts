/**
 * One prediction as the device records it: the device is its system of
 * record until the server acknowledges the id.
 */
import { z } from 'zod';
import { EventTimeSchema, LatencySchema, safeText } from './bounds.ts';
import { ProbabilitiesSchema } from './countries.ts';
import { FeaturesSchema } from './features.ts';
import { ModelVersionSchema } from './manifest.ts';

/** Time-ordered UUID (v7) made on the device. */
export const LogIdSchema = z.uuid({ version: 'v7' });

/**
 * 'simd' (WebAssembly SIMD), 'simd-threads' (the same kernel on several threads, where the page is
 * cross-origin isolated) and 'js' (plain JavaScript) are the app's own dense kernels; 'webgpu', 'wasm' and 'cpu'
 * are TensorFlow.js backends.
 */
export const BACKENDS = ['webgpu', 'simd', 'simd-threads', 'wasm', 'js', 'cpu'] as const;
export const BackendSchema = z.enum(BACKENDS);
export type Backend = z.infer<typeof BackendSchema>;

export const PREDICTION_SOURCES = ['form', 'catalogue', 'batch'] as const;
export const PredictionSourceSchema = z.enum(PREDICTION_SOURCES);
export type PredictionSource = z.infer<typeof PredictionSourceSchema>;

/**
 * What produced a log. Drift and performance default to `interactive`; the others are shown on request.
 * - interactive: a marketer asked for one song (typed, or picked from the catalogue)
 * - batch: a CSV or the whole catalogue scored at once
 * - shadow: a candidate model run on its own for comparison (a shadow result riding inside an
 *   interactive log is not a log of its own: it counts only in the shadow comparison)
 * - test: a warm-up, parity or smoke-test run
 */
export const TRAFFIC_KINDS = ['interactive', 'batch', 'shadow', 'test'] as const;
export const TrafficKindSchema = z.enum(TRAFFIC_KINDS);
export type TrafficKind = z.infer<typeof TrafficKindSchema>;

/**
 * The traffic kind of a log: its `traffic` field, or for logs from apps older than the field, derived from
 * `source` (`batch` → batch, `form` and `catalogue` → interactive).
 *
 * @example
 * trafficOf({ source: 'batch' }) // 'batch'
 * trafficOf({ source: 'form', traffic: 'test' }) // 'test'
 */
export function trafficOf(log: { source: PredictionSource; traffic?: TrafficKind | undefined }): TrafficKind {
  return log.traffic ?? (log.source === 'batch' ? 'batch' : 'interactive');
}

export const DeviceIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/);

/**
 * Ids a device may not take: the server's own actors in the audit log. (Tokens are kept apart by role as well, so
 * a device called `admin` could never touch an admin token; refusing the name keeps the audit log unambiguous.)
 */
export const RESERVED_DEVICE_IDS: ReadonlySet<string> = new Set([
  'admin',
  'server',
  'bootstrap',
  'alerts',
  'job-runner',
  'system',
  'root',
]);

/** A device id a new device may enroll with (item code `reserved-id` for the reserved ones, any case). */
export const EnrollableDeviceIdSchema = DeviceIdSchema.refine((id) => !RESERVED_DEVICE_IDS.has(id.toLowerCase()), {
  message: 'this id is reserved',
  params: { code: 'reserved-id' },
});

export const ShadowResultSchema = z.object({
  modelVersion: ModelVersionSchema,
  outputs: ProbabilitiesSchema,
  latencyMs: LatencySchema,
});
export type ShadowResult = z.infer<typeof ShadowResultSchema>;

/**
 * @example
 * PredictionLogSchema.parse({ id: uuidv7(), deviceId: 'dev_1', modelVersion: 'v1a2b…', backend: 'wasm',
 *   latencyMs: 0.8, createdAt: new Date().toISOString(), inputs, outputs, source: 'form' })
 */
export const PredictionLogSchema = z.strictObject({
  id: LogIdSchema,
  deviceId: DeviceIdSchema,
  modelVersion: ModelVersionSchema,
  backend: BackendSchema,
  latencyMs: LatencySchema,
  /** Device clock at prediction time: the event time for drift windows (the server also bounds it by receipt). */
  createdAt: EventTimeSchema,
  inputs: FeaturesSchema,
  /** The model's probabilities; a device writes them with `probabilitiesForLog` (9 digits: its float32s exactly). */
  outputs: ProbabilitiesSchema,
  source: PredictionSourceSchema,
  songId: safeText(64, 1).optional(),
  shadow: ShadowResultSchema.optional(),
  /** What produced it; optional so logs from apps older than the field stay valid (see `trafficOf`). */
  traffic: TrafficKindSchema.optional(),
});
export type PredictionLog = z.infer<typeof PredictionLogSchema>;
