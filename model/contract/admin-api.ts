/**
 * What the admin API answers about alerts and retraining jobs: one schema each, so the server that builds
 * these views and the dashboard that shows them agree on every field.
 */
import { z } from 'zod';
import { safeText } from './bounds.ts';
import { ManifestSchema, ModelFileNameSchema, ModelVersionSchema } from './manifest.ts';
import { DeviceIdSchema } from './prediction-log.ts';

/** A drift or performance alert (open while `resolvedAt` is null). */
export const AlertViewSchema = z.object({
  id: z.string(),
  version: z.string(),
  metric: z.string(),
  feature: z.string().nullable(),
  severity: z.string(),
  /**
   * The statistic whose value and threshold these are: `psi` or `js` (feature drift, decided on effect size
   * with a KS guard), `psi-excess` (output PSI above what chance gives at the window's n),
   * `macro-auc-drop` (performance). Null on episodes stored before the field.
   */
  statistic: z.string().nullable().optional(),
  value: z.number(),
  threshold: z.number(),
  message: z.string(),
  openedAt: z.string(),
  updatedAt: z.string(),
  resolvedAt: z.string().nullable(),
  /** When the webhook was told about this episode. */
  notifiedAt: z.string().nullable(),
});
export type AlertView = z.infer<typeof AlertViewSchema>;

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** A retraining job: the command the server ran, how it ended, and the candidate it published. */
export const JobViewSchema = z.object({
  id: z.string(),
  kind: z.string(),
  status: z.enum(JOB_STATUSES),
  trigger: z.enum(['alert', 'manual']),
  alertId: z.string().nullable(),
  requestedBy: z.string(),
  command: z.string(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  exitCode: z.number().int().nullable(),
  logTail: z.string(),
  candidateVersion: z.string().nullable(),
});
export type JobView = z.infer<typeof JobViewSchema>;

export const RetrainSettingsSchema = z.object({
  /** Whether a new alert starts a job. */
  autoOnAlert: z.boolean(),
  /** Where autoOnAlert comes from: the dashboard's toggle, or the RETRAIN_ON_ALERT default. */
  source: z.enum(['setting', 'config']),
  /** The configured command (null: jobs cannot run). */
  command: z.string().nullable(),
});
export type RetrainSettings = z.infer<typeof RetrainSettingsSchema>;

/** A retraining job's story for the dashboard: alert → run → candidate → canary → promoted or rolled back. */
export const CHAIN_OUTCOMES = [
  'running',
  'failed',
  'no-candidate',
  'candidate',
  'canary',
  'promoted',
  'rolled-back',
] as const;
export const ChainStepSchema = z.object({
  step: z.enum(['alert', 'run', 'candidate', 'canary', 'promoted', 'rolled-back', 'archived']),
  at: z.string().nullable(),
  actor: z.string().nullable(),
  summary: z.string(),
});
export type ChainStep = z.infer<typeof ChainStepSchema>;
export const RetrainChainSchema = z.object({
  job: JobViewSchema,
  outcome: z.enum(CHAIN_OUTCOMES),
  steps: z.array(ChainStepSchema),
});
export type RetrainChain = z.infer<typeof RetrainChainSchema>;
export type ChainOutcome = RetrainChain['outcome'];

export const StartJobRequestSchema = z.strictObject({ reason: safeText(200).optional() });
export const RetrainSettingsRequestSchema = z.strictObject({ autoOnAlert: z.boolean() });

/** One governance action (publish, canary, promote, enrollment, revocation, retraining…), who and when. */
export const AuditEntrySchema = z.object({
  id: z.string(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  details: z.record(z.string(), z.unknown()),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

export const MODEL_STAGES = ['candidate', 'canary', 'production', 'archived'] as const;
export const ModelStageSchema = z.enum(MODEL_STAGES);
export type ModelStage = z.infer<typeof ModelStageSchema>;

/** Which version devices run: production, the canary and its share, the shadow candidate. */
export const RolloutSchema = z.object({
  production: z.string().nullable(),
  canary: z.string().nullable(),
  canaryPercent: z.number(),
  shadow: z.string().nullable(),
  updatedAt: z.string(),
  updatedBy: z.string(),
});
export type Rollout = z.infer<typeof RolloutSchema>;

export const ModelSummarySchema = z.object({
  version: z.string(),
  stage: ModelStageSchema,
  createdAt: z.string(),
  publishedAt: z.string(),
  publishedBy: z.string(),
  replaced: z.string().nullable(),
  manifest: ManifestSchema,
});
export type ModelSummary = z.infer<typeof ModelSummarySchema>;

/** `POST /models`: the manifest (checked by the registry, to answer `manifest-invalid`) and base64 files. */
export const PublishRequestSchema = z.strictObject({
  manifest: z.unknown(),
  /** File path (as listed in the manifest) → base64 of its bytes. */
  files: z.record(ModelFileNameSchema, z.base64()),
});
export const PublishResponseSchema = z.object({ version: z.string(), created: z.boolean() });
export const CanaryRequestSchema = z.strictObject({ percent: z.number().int().min(1).max(50) });
export const ShadowRequestSchema = z.strictObject({ version: ModelVersionSchema.nullable() });

/** A device as admins see it (and as it sees itself). */
export const DeviceViewSchema = z.object({
  id: z.string(),
  label: z.string().nullable(),
  enrolledAt: z.string(),
  lastSeenAt: z.string().nullable(),
  lastPredictionAt: z.string().nullable(),
  lastVersion: z.string().nullable(),
  logsTotal: z.number(),
  revokedAt: z.string().nullable(),
  /** Logs per day since enrollment × days since the last sync: a rough "not yet synced" count. */
  unsyncedEstimate: z.number(),
});
export type DeviceView = z.infer<typeof DeviceViewSchema>;

export const EnrollmentCodeRequestSchema = z.strictObject({
  expiresInHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(72),
  /** A re-enrollment code for this existing device (a new install of it, a lost token). */
  deviceId: DeviceIdSchema.optional(),
  /** With deviceId: the device replaces its pinned label key with the server's (shown on the device). */
  resetKey: z.boolean().optional(),
});
export const EnrollmentCodeResponseSchema = z.object({
  code: z.string(),
  expiresAt: z.string(),
  deviceId: z.string().optional(),
  resetKey: z.boolean().optional(),
});
export type EnrollmentCodeResponse = z.infer<typeof EnrollmentCodeResponseSchema>;

/** A model-update event a device reported, with the server's receive time. */
export const DeviceEventViewSchema = z.object({
  id: z.string(),
  at: z.string(),
  receivedAt: z.string(),
  deviceId: z.string(),
  kind: z.string(),
  version: z.string(),
  code: z.string().optional(),
  message: z.string().optional(),
});
export type DeviceEventView = z.infer<typeof DeviceEventViewSchema>;

/** `PUT /catalogue`: how many songs the CSV gave, and the first rejected rows with their field codes. */
export const CatalogueReplaceResponseSchema = z.object({
  songs: z.number(),
  rejected: z.number(),
  rejectedRows: z.array(
    z.object({ line: z.number(), errors: z.array(z.object({ field: z.string(), code: z.string() })) }),
  ),
  etag: z.string(),
});

/** `POST /outcomes/chart-csv`: outcomes derived from the chart, for how many songs and countries, dated when. */
export const ChartCsvResponseSchema = z.object({
  outcomes: z.number(),
  stored: z.number(),
  songs: z.number(),
  countries: z.number(),
  date: z.string(),
});
