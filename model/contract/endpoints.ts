/**
 * Every HTTP endpoint of the server, once: method, path, who may call it, what it takes (path params, query,
 * body) and what it answers. The server mounts its routes from this table (and generates
 * `/api/v1/openapi.json` from it); `apiClient` builds every URL and parses every answer with it.
 *
 * @example
 * ENDPOINTS.assignment // { method: 'get', path: '/api/v1/assignment', role: 'device', response: { schema: AssignmentSchema } … }
 */
import { z } from 'zod';
import {
  AuditEntrySchema,
  CanaryRequestSchema,
  CatalogueReplaceResponseSchema,
  ChartCsvResponseSchema,
  DeviceEventViewSchema,
  DeviceViewSchema,
  EnrollmentCodeRequestSchema,
  EnrollmentCodeResponseSchema,
  JobViewSchema,
  ModelStageSchema,
  ModelSummarySchema,
  PublishRequestSchema,
  PublishResponseSchema,
  RetrainChainSchema,
  RetrainSettingsRequestSchema,
  RetrainSettingsSchema,
  RolloutSchema,
  ShadowRequestSchema,
  StartJobRequestSchema,
} from './admin-api.ts';
import {
  AssignmentSchema,
  CatalogueSchema,
  DeviceEventBatchSchema,
  EnrollRequestSchema,
  EnrollResponseSchema,
  ExportedOutcomeSchema,
  LogBatchRequestSchema,
  LogBatchResponseSchema,
  OutcomeBatchRequestSchema,
  OutcomeBatchResponseSchema,
} from './api.ts';
import { isCalendarDate } from './bounds.ts';
import type { ErrorCode } from './errors.ts';
import { ManifestSchema, ModelVersionSchema } from './manifest.ts';
import {
  AlertEvaluationSchema,
  AlertListSchema,
  DriftReportSchema,
  DriftTimeseriesSchema,
  MonitoringQuerySchema,
  OverviewSchema,
  PerformanceReportSchema,
  ShadowReportSchema,
} from './monitoring-api.ts';

/** Where the versioned API lives: every path below under it, except `/healthz` and `/metrics`. */
export const API_PREFIX = '/api/v1';

/** `device` routes take a device token or an admin token; `deviceOnly` ones a device token only. */
export type EndpointRole = 'public' | 'device' | 'admin';
export type HttpMethod = 'get' | 'post' | 'put';

export interface EndpointBody {
  /** `application/json` bodies are parsed with `schema`; text bodies (CSV) are read as text. */
  readonly contentType: 'application/json' | 'text/csv';
  readonly schema: z.ZodType;
  /** A batch body `{ [batchKey]: [...] }`: a 422 lists the bad items by index. */
  readonly batchKey?: string;
  /** An empty body means `schema.parse({})` (the defaults). */
  readonly optional?: boolean;
  readonly description?: string;
}

export interface EndpointResponse {
  readonly status: 200 | 201 | 202;
  /** Default `application/json`. */
  readonly contentType?: string;
  /** The JSON body; for NDJSON one line; for text and bytes the body as a string. */
  readonly schema: z.ZodType;
  readonly description?: string;
}

export interface Endpoint {
  readonly method: HttpMethod;
  /** Absolute, OpenAPI style (`/api/v1/models/{version}`). */
  readonly path: string;
  readonly role: EndpointRole;
  /** Only a device token (an admin token is refused with 403). */
  readonly deviceOnly?: boolean;
  readonly summary: string;
  readonly description?: string;
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  readonly body?: EndpointBody;
  /** The body may be larger than the default JSON limit: its own limit applies, after authentication. */
  readonly largeBody?: boolean;
  readonly response: EndpointResponse;
  /** The error codes it may answer besides 401/403/429 (`{ error: { code, message, details } }`). */
  readonly errors: readonly ErrorCode[];
}

/** A query or path value that must be a calendar day; a bad one is answered with `code` (contract code). */
const dayParam = (code: ErrorCode) =>
  z.string().refine(isCalendarDate, { params: { code }, message: 'must be a calendar date (YYYY-MM-DD)' });
const versionParams = z.object({ version: ModelVersionSchema });
const idParams = z.object({ id: z.string().min(1) });
const WINDOW_QUERY_DOC =
  'Query: `version`; `from`/`to` (UTC days, inclusive; default the alert window ending today); `granularity` `day` (default) or `week` (ISO weeks); `kind`: traffic kinds, comma-separated (`interactive`, `batch`, `shadow`, `test`) or `all` (default `interactive`).';

const AuditQuerySchema = z.object({
  format: z.enum(['json', 'csv']).default('json'),
  limit: z.coerce.number().int().min(1).max(100_000).default(200),
  since: z.iso.datetime({ offset: true }).optional(),
  action: z.string().max(64).optional(),
  download: z.enum(['0', '1']).optional(),
});

const Text = z.string();

export const ENDPOINTS = {
  // ── Public and operations ─────────────────────────────────────────────
  healthz: {
    method: 'get',
    path: '/healthz',
    role: 'public',
    summary: 'Liveness and store check',
    response: { status: 200, schema: z.object({ ok: z.literal(true), store: z.string() }) },
    errors: [],
  },
  metrics: {
    method: 'get',
    path: '/metrics',
    role: 'admin',
    summary: 'Prometheus metrics (text format); public when METRICS_PUBLIC=true',
    response: { status: 200, contentType: 'text/plain', schema: Text, description: 'Prometheus exposition format.' },
    errors: [],
  },
  openapi: {
    method: 'get',
    path: '/api/v1/openapi.json',
    role: 'public',
    summary: 'This description (generated from the contract’s endpoint table)',
    response: { status: 200, schema: z.record(z.string(), z.unknown()) },
    errors: [],
  },

  // ── Identity: enrollment and devices ──────────────────────────────────
  enroll: {
    method: 'post',
    path: '/api/v1/enroll',
    role: 'public',
    summary: 'Trade a one-time enrollment code for a device token',
    description:
      'A code without a device enrolls a new id only (an existing id: 409 `device-exists`); an existing device enrolls again only with a code issued for it, and a revoked one only after an admin restores it (403 `device-revoked`). A refused attempt does not spend the code. Ids the server uses for itself (`admin`, `server`, …) are refused (`reserved-id`). `keyReset` is present when the admin issued the code with a key reset.',
    body: { contentType: 'application/json', schema: EnrollRequestSchema },
    response: { status: 201, schema: EnrollResponseSchema },
    errors: [
      'invalid-json',
      'validation-failed',
      'enrollment-code-invalid',
      'device-exists',
      'device-revoked',
      'unsupported-media-type',
      'body-too-large',
      'rate-limited',
    ],
  },
  createEnrollmentCode: {
    method: 'post',
    path: '/api/v1/admin/enrollment-codes',
    role: 'admin',
    summary: 'Create a one-time enrollment code (with deviceId: a re-enrollment code for that device)',
    body: { contentType: 'application/json', schema: EnrollmentCodeRequestSchema, optional: true },
    response: { status: 201, schema: EnrollmentCodeResponseSchema },
    errors: ['validation-failed', 'invalid-value', 'not-found', 'device-revoked'],
  },
  listDevices: {
    method: 'get',
    path: '/api/v1/admin/devices',
    role: 'admin',
    summary: 'Devices: last seen, version, logs, unsynced estimate',
    response: { status: 200, schema: z.object({ devices: z.array(DeviceViewSchema) }) },
    errors: [],
  },
  revokeDevice: {
    method: 'post',
    path: '/api/v1/admin/devices/{id}/revoke',
    role: 'admin',
    summary: 'Revoke a device and all its tokens',
    params: idParams,
    response: { status: 200, schema: z.object({ deviceId: z.string(), revokedTokens: z.number() }) },
    errors: ['not-found'],
  },
  restoreDevice: {
    method: 'post',
    path: '/api/v1/admin/devices/{id}/restore',
    role: 'admin',
    summary: 'Lift a device’s revocation (audited); it then enrolls again with a code issued for it',
    params: idParams,
    response: { status: 200, schema: z.object({ deviceId: z.string(), restored: z.literal(true) }) },
    errors: ['not-found', 'conflict'],
  },
  ownDevice: {
    method: 'get',
    path: '/api/v1/devices/me',
    role: 'device',
    summary: 'The calling device’s own record',
    response: { status: 200, schema: DeviceViewSchema },
    errors: ['not-found'],
  },
  reportDeviceEvents: {
    method: 'post',
    path: '/api/v1/devices/me/events',
    role: 'device',
    deviceOnly: true,
    summary: 'Report model-update events on the device (refused, rolled back, activated, drift warning)',
    body: { contentType: 'application/json', schema: DeviceEventBatchSchema, batchKey: 'events' },
    response: {
      status: 200,
      schema: z.object({ stored: z.array(z.string()) }),
      description: 'The event ids now stored (a retried event is stored once).',
    },
    errors: ['invalid-json', 'validation-failed', 'body-too-large'],
  },
  listDeviceEvents: {
    method: 'get',
    path: '/api/v1/admin/device-events',
    role: 'admin',
    summary: 'Model-update events reported by devices, newest first by receipt (?deviceId= filters)',
    query: z.object({ deviceId: z.string().optional() }),
    response: { status: 200, schema: z.object({ events: z.array(DeviceEventViewSchema) }) },
    errors: [],
  },

  // ── Ingest ────────────────────────────────────────────────────────────
  uploadLogs: {
    method: 'post',
    path: '/api/v1/logs',
    role: 'device',
    summary: 'Ingest a batch of prediction logs (atomic, idempotent by id)',
    description:
      'The whole batch is stored or none of it. A rejected batch answers 422 with `details.items[]` = { index, id, code, message, path } per bad item (item codes include `event-time-out-of-window`, `number-out-of-range`, `invalid-text`). A device may only send its own logs. Event time = `createdAt` (device clock), which must lie within EVENT_WINDOW_BACK_DAYS before and EVENT_WINDOW_AHEAD_DAYS after receipt; arrival time is kept. An id already stored with other content answers 409 `id-reused` (items listed); a byte-for-byte retry is a duplicate.',
    body: { contentType: 'application/json', schema: LogBatchRequestSchema, batchKey: 'logs' },
    largeBody: true,
    response: { status: 200, schema: LogBatchResponseSchema },
    errors: [
      'invalid-json',
      'invalid-value',
      'validation-failed',
      'unknown-model-version',
      'id-reused',
      'body-too-large',
      'unsupported-media-type',
    ],
  },
  uploadOutcomes: {
    method: 'post',
    path: '/api/v1/outcomes',
    role: 'device',
    summary: 'Ingest ground-truth outcomes (idempotent by id)',
    description:
      'Item codes include `invalid-text`, `invalid-date` and `event-time-out-of-window` (`recordedAt` outside the window of receipt, or a chart `date` after it).',
    body: { contentType: 'application/json', schema: OutcomeBatchRequestSchema, batchKey: 'outcomes' },
    largeBody: true,
    response: { status: 200, schema: OutcomeBatchResponseSchema },
    errors: ['invalid-json', 'validation-failed', 'body-too-large', 'unsupported-media-type'],
  },
  uploadChartCsv: {
    method: 'post',
    path: '/api/v1/outcomes/chart-csv',
    role: 'admin',
    summary: 'Upload a Kaggle chart CSV; becomes outcomes for every (song, country) it covers',
    query: z.object({ date: dayParam('invalid-date').optional() }),
    body: {
      contentType: 'text/csv',
      schema: Text,
      description:
        'Columns spotify_id, country (empty = global, ignored), optional snapshot_date. Query `date` dates the outcomes (default: the latest snapshot_date, else today).',
    },
    largeBody: true,
    response: { status: 200, schema: ChartCsvResponseSchema },
    errors: [
      'unsupported-media-type',
      'invalid-date',
      'csv-missing-column',
      'file-empty',
      'no-usable-rows',
      'body-too-large',
    ],
  },
  exportOutcomes: {
    method: 'get',
    path: '/api/v1/outcomes/export',
    role: 'admin',
    summary: 'Every outcome with the song’s 13 features, for retraining (NDJSON, one outcome per line)',
    description:
      'Features come from the catalogue by song id, else from the inputs a device logged for the song (by id, then fingerprint); null when neither knows it. Query `since` (YYYY-MM-DD): only outcomes dated on or after it.',
    query: z.object({ since: dayParam('invalid-value').optional() }),
    response: { status: 200, contentType: 'application/x-ndjson', schema: ExportedOutcomeSchema },
    errors: ['invalid-value'],
  },

  // ── Catalogue ─────────────────────────────────────────────────────────
  catalogue: {
    method: 'get',
    path: '/api/v1/catalogue',
    role: 'device',
    summary: 'The song catalogue (gzip; ETag, answers 304 to If-None-Match)',
    response: { status: 200, schema: CatalogueSchema },
    errors: [],
  },
  replaceCatalogue: {
    method: 'put',
    path: '/api/v1/catalogue',
    role: 'admin',
    summary: 'Replace the catalogue from a CSV',
    body: {
      contentType: 'text/csv',
      schema: Text,
      description: 'spotify_id (or id), name, artists and the 13 feature columns.',
    },
    largeBody: true,
    response: { status: 200, schema: CatalogueReplaceResponseSchema },
    errors: ['unsupported-media-type', 'csv-missing-column', 'file-empty', 'no-usable-rows', 'body-too-large'],
  },

  // ── Model registry and rollout ────────────────────────────────────────
  listModels: {
    method: 'get',
    path: '/api/v1/models',
    role: 'admin',
    summary: 'All model versions with stage, metrics, lineage; rollout state',
    response: { status: 200, schema: z.object({ models: z.array(ModelSummarySchema), rollout: RolloutSchema }) },
    errors: [],
  },
  publishModel: {
    method: 'post',
    path: '/api/v1/models',
    role: 'admin',
    summary: 'Publish a model version (becomes a candidate)',
    description:
      'Every file listed in the manifest, checked for bytes and sha256; the version must equal contentVersion(files); with a configured label key the manifest must carry a valid signature. 201 new, 200 already published.',
    body: { contentType: 'application/json', schema: PublishRequestSchema },
    largeBody: true,
    response: { status: 201, schema: PublishResponseSchema },
    errors: [
      'manifest-invalid',
      'hash-mismatch',
      'signature-missing',
      'signature-mismatch',
      'validation-failed',
      'body-too-large',
    ],
  },
  getModel: {
    method: 'get',
    path: '/api/v1/models/{version}',
    role: 'admin',
    summary: 'One version: stage and manifest',
    params: versionParams,
    response: {
      status: 200,
      schema: z.object({
        version: z.string(),
        stage: ModelStageSchema,
        manifest: ManifestSchema,
        replaced: z.string().nullable(),
      }),
    },
    errors: ['invalid-value', 'unknown-model-version'],
  },
  modelManifest: {
    method: 'get',
    path: '/api/v1/models/{version}/manifest.json',
    role: 'device',
    summary: 'The version’s manifest (immutable; ETag)',
    params: versionParams,
    response: { status: 200, schema: ManifestSchema },
    errors: ['invalid-value', 'unknown-model-version'],
  },
  modelFile: {
    method: 'get',
    path: '/api/v1/models/{version}/files/{path}',
    role: 'device',
    summary: 'A model file (immutable, long cache, ETag = sha256)',
    params: z.object({ version: ModelVersionSchema, path: z.string().min(1) }),
    response: { status: 200, contentType: 'application/octet-stream', schema: Text, description: 'The file bytes.' },
    errors: ['invalid-value', 'unknown-model-version', 'not-found'],
  },
  canary: {
    method: 'post',
    path: '/api/v1/models/{version}/canary',
    role: 'admin',
    summary: 'Canary a candidate for a % of devices (equal-size control group)',
    params: versionParams,
    body: { contentType: 'application/json', schema: CanaryRequestSchema },
    response: { status: 200, schema: RolloutSchema },
    errors: ['invalid-value', 'unknown-model-version', 'conflict', 'validation-failed'],
  },
  promote: {
    method: 'post',
    path: '/api/v1/models/{version}/promote',
    role: 'admin',
    summary: 'Promote to production (old production archived, kept for rollback)',
    params: versionParams,
    response: { status: 200, schema: RolloutSchema },
    errors: ['invalid-value', 'unknown-model-version', 'conflict'],
  },
  archive: {
    method: 'post',
    path: '/api/v1/models/{version}/archive',
    role: 'admin',
    summary: 'Archive a candidate or canary',
    params: versionParams,
    response: { status: 200, schema: RolloutSchema },
    errors: ['invalid-value', 'unknown-model-version', 'conflict'],
  },
  rollout: {
    method: 'get',
    path: '/api/v1/rollout',
    role: 'admin',
    summary: 'Rollout state (production, canary %, shadow) and recent audit entries',
    response: { status: 200, schema: RolloutSchema.extend({ audit: z.array(AuditEntrySchema) }) },
    errors: [],
  },
  setShadow: {
    method: 'put',
    path: '/api/v1/rollout/shadow',
    role: 'admin',
    summary: 'Set (or clear with null) the version devices run in shadow',
    body: { contentType: 'application/json', schema: ShadowRequestSchema },
    response: { status: 200, schema: RolloutSchema },
    errors: ['unknown-model-version', 'conflict', 'validation-failed'],
  },
  rollback: {
    method: 'post',
    path: '/api/v1/rollout/rollback',
    role: 'admin',
    summary: 'End the canary, or without one, restore the previous production',
    response: { status: 200, schema: RolloutSchema },
    errors: ['conflict'],
  },
  assignment: {
    method: 'get',
    path: '/api/v1/assignment',
    role: 'device',
    summary: 'Which version this device runs, its cohort and the shadow candidate',
    description:
      'Cohort by a stable hash bucket (0–99) of the device id: bucket < p → canary, p ≤ bucket < 2p → control (runs production), else production. Admins pass `?deviceId=`.',
    query: z.object({ deviceId: z.string().optional() }),
    response: { status: 200, schema: AssignmentSchema },
    errors: ['invalid-value', 'not-found'],
  },
  audit: {
    method: 'get',
    path: '/api/v1/audit',
    role: 'admin',
    summary:
      'Who did what and when: publish, canary, promote, rollback, shadow, archive, enrollment codes, enrollments, device-token issue, revocations, retraining',
    description:
      'Query: `format` `json` (default) or `csv` (a download: id, at, actor, action, details as JSON, `text/csv`); `limit` (newest first, 1–100000, default 200); `since` (ISO time); `action`; `download=1` (JSON as an attachment).',
    query: AuditQuerySchema,
    response: { status: 200, schema: z.object({ entries: z.array(AuditEntrySchema) }) },
    errors: ['validation-failed'],
  },

  // ── Retraining ────────────────────────────────────────────────────────
  listJobs: {
    method: 'get',
    path: '/api/v1/jobs',
    role: 'admin',
    summary: 'Retraining jobs (newest first) and the retraining settings',
    response: { status: 200, schema: z.object({ jobs: z.array(JobViewSchema), settings: RetrainSettingsSchema }) },
    errors: [],
  },
  startJob: {
    method: 'post',
    path: '/api/v1/jobs',
    role: 'admin',
    summary: 'Start a retraining job now (runs RETRAIN_COMMAND with JUKEBOX_SERVER and a job-scoped admin token)',
    description: '409 `conflict` when no RETRAIN_COMMAND is configured or a job is already queued or running.',
    body: { contentType: 'application/json', schema: StartJobRequestSchema, optional: true },
    response: { status: 202, schema: JobViewSchema },
    errors: ['conflict', 'validation-failed'],
  },
  getJob: {
    method: 'get',
    path: '/api/v1/jobs/{id}',
    role: 'admin',
    summary: 'One retraining job: status, exit code, log tail, candidate version it published',
    params: idParams,
    response: { status: 200, schema: JobViewSchema },
    errors: ['not-found'],
  },
  retrainSettings: {
    method: 'get',
    path: '/api/v1/settings/retrain',
    role: 'admin',
    summary: 'Whether an alert starts a retraining job',
    response: { status: 200, schema: RetrainSettingsSchema },
    errors: [],
  },
  setRetrainSettings: {
    method: 'put',
    path: '/api/v1/settings/retrain',
    role: 'admin',
    summary: 'Switch retraining on alerts on or off (audited)',
    body: { contentType: 'application/json', schema: RetrainSettingsRequestSchema },
    response: { status: 200, schema: RetrainSettingsSchema },
    errors: ['validation-failed', 'conflict'],
  },
  retrainChains: {
    method: 'get',
    path: '/api/v1/retraining/chains',
    role: 'admin',
    summary: 'Per retraining job: alert → run → candidate → canary → promoted or rolled back',
    response: {
      status: 200,
      schema: z.object({ settings: RetrainSettingsSchema, chains: z.array(RetrainChainSchema) }),
    },
    errors: [],
  },

  // ── Monitoring ────────────────────────────────────────────────────────
  driftReport: {
    method: 'get',
    path: '/api/v1/drift/report',
    role: 'admin',
    summary: 'Drift report for a version and window',
    description: `Per feature: PSI (proportions floored at 1e-4), Jensen–Shannon distance (base 2) and the KS statistic and p-value — on binned CDFs over the reference bin edges, asymptotic Kolmogorov distribution, n = the effective number of distinct songs — Holm-adjusted across the 13 features; a feature warns or alerts when PSI or JS reaches its threshold and the adjusted KS p-value is below ksPValue, and its \`decision\` names the statistic. Outputs: top-1 country and entropy PSI against a bootstrap null from the reference at the same n (\`top1Null\`, \`entropyNull\`). The counting rule is in the answer's \`countingRule\`. Fewer than minDistinct songs: status insufficient-data, no decisions. ${WINDOW_QUERY_DOC}`,
    query: MonitoringQuerySchema,
    response: { status: 200, schema: DriftReportSchema },
    errors: ['unknown-model-version', 'validation-failed', 'invalid-value'],
  },
  driftTimeseries: {
    method: 'get',
    path: '/api/v1/drift/timeseries',
    role: 'admin',
    summary: 'Drift statistics per day or week',
    description: WINDOW_QUERY_DOC,
    query: MonitoringQuerySchema,
    response: { status: 200, schema: DriftTimeseriesSchema },
    errors: ['unknown-model-version', 'validation-failed', 'invalid-value'],
  },
  performance: {
    method: 'get',
    path: '/api/v1/performance',
    role: 'admin',
    summary:
      'Macro and pooled ROC-AUC and top-5 hit with 95 % intervals, per period and over the window (concept drift)',
    description: `Outcomes (by chart date; chart uploads derived from the stored chart) matched to the latest prediction of the same song id (its fingerprint only when the outcome has no id) by this version, in the chosen traffic kinds, made on or before the chart date and within matchHorizonDays. Unit: a song on a chart date. Macro AUC: per-country AUC averaged over countries with both classes; pooled AUC: over every (song, country) pair; top-5 hit: songs with a charted country. Each { value, lo, hi } (95 % bootstrap over songs), or null with \`note\` ("too few outcomes"). Unmatched outcomes are counted with the reason. ${WINDOW_QUERY_DOC}`,
    query: MonitoringQuerySchema,
    response: { status: 200, schema: PerformanceReportSchema },
    errors: ['unknown-model-version', 'validation-failed', 'invalid-value'],
  },
  shadowReport: {
    method: 'get',
    path: '/api/v1/shadow',
    role: 'admin',
    summary:
      'Shadow comparison of candidates run beside a version: top-1 agreement, top-1 in the active top 5, mean |Δp|',
    description:
      'Every logged row with a shadow result counts (the question is how the two models differ on the traffic they see). Sums per (active version, shadow version, UTC day), merged for the window, with one point per day. Query: `version`, `from`, `to`.',
    query: MonitoringQuerySchema,
    response: { status: 200, schema: ShadowReportSchema },
    errors: ['validation-failed', 'invalid-value'],
  },
  alerts: {
    method: 'get',
    path: '/api/v1/alerts',
    role: 'admin',
    summary: 'Alerts (query open=true for open ones only)',
    query: z.object({ open: z.string().optional() }),
    response: { status: 200, schema: AlertListSchema },
    errors: [],
  },
  evaluateAlerts: {
    method: 'post',
    path: '/api/v1/alerts/evaluate',
    role: 'admin',
    summary: 'Evaluate alert thresholds now (also runs on a timer); answers the open alerts',
    response: { status: 200, schema: AlertEvaluationSchema },
    errors: [],
  },
  overview: {
    method: 'get',
    path: '/api/v1/overview',
    role: 'admin',
    summary: 'Counts for the dashboard',
    response: { status: 200, schema: OverviewSchema },
    errors: [],
  },
} as const satisfies Record<string, Endpoint>;

export type EndpointName = keyof typeof ENDPOINTS;
export type Endpoints = typeof ENDPOINTS;

/** Every endpoint, as a list (for the server's mount check and the OpenAPI test). */
export const ENDPOINT_LIST: readonly Endpoint[] = Object.values(ENDPOINTS);
