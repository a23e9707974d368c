/**
 * Request and response bodies of the HTTP API that devices and the admin CLI
 * use. The server validates with these; the app parses answers with them.
 */
import { z } from 'zod';
import { EventTimeSchema, safeText } from './bounds.ts';
import { CountryCodeSchema } from './countries.ts';
import { FEATURE_NAMES, FeaturesSchema } from './features.ts';
import { ModelVersionSchema } from './manifest.ts';
import { OUTCOME_SOURCES, OutcomeSchema } from './outcome.ts';
import { EnrollableDeviceIdSchema, PredictionLogSchema } from './prediction-log.ts';

export const MAX_LOGS_PER_BATCH = 1000;
export const MAX_OUTCOMES_PER_BATCH = 1000;

export const LogBatchRequestSchema = z.strictObject({
  logs: z.array(PredictionLogSchema).min(1).max(MAX_LOGS_PER_BATCH),
});
export type LogBatchRequest = z.infer<typeof LogBatchRequestSchema>;

/** Every id in the batch is now stored (new or already there). */
export const LogBatchResponseSchema = z.object({
  stored: z.array(z.string()),
  /** Of those, ids that had been stored before (a retry). */
  duplicates: z.array(z.string()),
});
export type LogBatchResponse = z.infer<typeof LogBatchResponseSchema>;

/** Per-item problems when a batch is rejected (the whole batch is then stored not at all). */
export const ItemErrorSchema = z.object({
  index: z.number().int().nonnegative(),
  id: z.string().optional(),
  code: z.string(),
  message: z.string(),
  path: z.array(z.union([z.string(), z.number()])).optional(),
});
export type ItemError = z.infer<typeof ItemErrorSchema>;

export const OutcomeBatchRequestSchema = z.strictObject({
  outcomes: z.array(OutcomeSchema).min(1).max(MAX_OUTCOMES_PER_BATCH),
});
export type OutcomeBatchRequest = z.infer<typeof OutcomeBatchRequestSchema>;
export const OutcomeBatchResponseSchema = LogBatchResponseSchema;

export const EnrollRequestSchema = z.strictObject({
  code: z.string().min(4).max(64),
  /** The device's own id (made on the device before enrollment). */
  deviceId: EnrollableDeviceIdSchema,
  label: safeText(100).optional(),
});
export const EnrollResponseSchema = z.object({
  deviceId: z.string(),
  token: z.string(),
  /** Label's signing public key (JWK) to pin on the device. */
  publicKey: z.record(z.string(), z.unknown()).optional(),
  /**
   * Present only when the admin issued this device's code with a key reset: the device may replace a pinned key
   * that differs from `publicKey`, and shows that it did. Without it a different key is refused on the device.
   */
  keyReset: z.object({ at: z.string() }).optional(),
});

export const AssignmentSchema = z.object({
  /** Version the device must run. */
  active: ModelVersionSchema,
  /** Why: production, canary or control group. */
  cohort: z.enum(['production', 'canary', 'control']),
  /** Candidate to run in shadow beside the active one, if any. */
  shadow: ModelVersionSchema.nullable(),
  checkedAt: z.iso.datetime(),
});
export type Assignment = z.infer<typeof AssignmentSchema>;

/** One song of the catalogue that marketers search to prefill the form. */
export const CatalogueSongSchema = z.object({
  id: z.string().min(1).max(64),
  name: z.string(),
  artists: z.string(),
  features: FeaturesSchema,
});
export type CatalogueSong = z.infer<typeof CatalogueSongSchema>;

/** `GET /api/v1/catalogue`: the whole catalogue; `version` changes whenever its content does. */
export const CatalogueSchema = z.object({
  version: z.string(),
  songs: z.array(CatalogueSongSchema),
});
export type Catalogue = z.infer<typeof CatalogueSchema>;

/** What a device tells the server about model updates on it (refusals, rollbacks, activations, drift). */
export const DEVICE_EVENT_KINDS = [
  'model-activated',
  'model-refused',
  'model-rolled-back',
  'shadow-refused',
  'drift-warning',
] as const;
export const DeviceEventKindSchema = z.enum(DEVICE_EVENT_KINDS);
export type DeviceEventKind = z.infer<typeof DeviceEventKindSchema>;

export const DeviceEventSchema = z.strictObject({
  /** Made on the device (UUID v7), so a retried report is stored once. */
  id: z.uuid({ version: 'v7' }),
  kind: DeviceEventKindSchema,
  /** The model version concerned. */
  version: ModelVersionSchema,
  /** Contract error code, for refusals and rollbacks. */
  code: safeText(64).optional(),
  message: safeText(500).optional(),
  /** Device clock (kept as reported; the server orders device events by its own receive time). */
  at: EventTimeSchema,
});
export type DeviceEvent = z.infer<typeof DeviceEventSchema>;

export const DeviceEventBatchSchema = z.strictObject({
  events: z.array(DeviceEventSchema).min(1).max(100),
});
export type DeviceEventBatch = z.infer<typeof DeviceEventBatchSchema>;

/**
 * One NDJSON line of `GET /api/v1/outcomes/export` (admin), what retraining from the field reads: an outcome
 * with the song's 13 feature values in input order (from the catalogue by song id, else from a logged input),
 * null when neither knows the song.
 */
export const ExportedOutcomeSchema = z.strictObject({
  id: z.string().min(1),
  songId: z.string().min(1).nullable(),
  fingerprint: z.string().min(1).nullable(),
  country: CountryCodeSchema,
  charted: z.boolean(),
  date: z.iso.date(),
  source: z.enum(OUTCOME_SOURCES),
  features: z.array(z.number().finite()).length(FEATURE_NAMES.length).nullable(),
});
export type ExportedOutcome = z.infer<typeof ExportedOutcomeSchema>;
