/**
 * The OpenAPI 3.1 description served at /api/v1/openapi.json: a hand-written
 * route table whose bodies are the contract's zod schemas converted with
 * `z.toJSONSchema`, so the description cannot drift from what is validated.
 */
import { z } from 'zod';
import {
  ApiErrorSchema,
  AssignmentSchema,
  CatalogueSchema,
  DeviceEventBatchSchema,
  EnrollRequestSchema,
  EnrollResponseSchema,
  LogBatchRequestSchema,
  LogBatchResponseSchema,
  ManifestSchema,
  OutcomeBatchRequestSchema,
  OutcomeBatchResponseSchema,
} from '../../model/contract/index.ts';
import { COUNTING_RULE } from '../drift/drift-service.ts';

type Role = 'public' | 'device' | 'admin';

interface RouteDoc {
  method: 'get' | 'post' | 'put';
  path: string;
  summary: string;
  role: Role;
  request?: z.ZodType | { contentType: string; description: string };
  response?: z.ZodType | { contentType: string; description: string };
  errors: string[];
  query?: { name: string; required?: boolean; description: string }[];
  description?: string;
}

const Obj = (description: string) => ({ contentType: 'application/json', description });

const windowQuery = [
  { name: 'version', required: true, description: 'Model version.' },
  { name: 'from', description: 'First UTC day (YYYY-MM-DD), inclusive. Default: `to` minus the alert window.' },
  { name: 'to', description: 'Last UTC day (YYYY-MM-DD), inclusive. Default: today.' },
  { name: 'granularity', description: '`day` (default) or `week` (ISO weeks, starting Monday).' },
  {
    name: 'kind',
    description:
      'Traffic kinds, comma-separated (`interactive`, `batch`, `shadow`, `test`) or `all`. Default: `interactive`.',
  },
];

/** Every route the server answers (the route test checks this list against the app). */
export const ROUTES: RouteDoc[] = [
  {
    method: 'get',
    path: '/healthz',
    summary: 'Liveness and store check',
    role: 'public',
    response: Obj('{ ok, store }'),
    errors: [],
  },
  {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics (text format)',
    role: 'admin',
    response: {
      contentType: 'text/plain',
      description: 'Prometheus exposition format; public when METRICS_PUBLIC=true.',
    },
    errors: ['unauthorized', 'forbidden'],
  },
  { method: 'get', path: '/api/v1/openapi.json', summary: 'This description', role: 'public', errors: [] },
  {
    method: 'post',
    path: '/api/v1/enroll',
    summary: 'Trade a one-time enrollment code for a device token',
    role: 'public',
    request: EnrollRequestSchema,
    response: EnrollResponseSchema,
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
    description:
      'A code without a device enrolls a new id only (an existing id: 409 `device-exists`); an existing device enrolls again only with a code issued for it, and a revoked one only after an admin restores it (403 `device-revoked`). A refused attempt does not spend the code. Ids the server uses for itself (`admin`, `server`, …) are refused (`reserved-id`). `keyReset` is present when the admin issued the code with a key reset.',
  },
  {
    method: 'post',
    path: '/api/v1/admin/enrollment-codes',
    summary: 'Create a one-time enrollment code',
    role: 'admin',
    request: Obj(
      '{ expiresInHours?: 1–720 (default 72), deviceId?: an enrolled device (a re-enrollment code for it), resetKey?: boolean (with deviceId: the device replaces its pinned label key) } or empty body',
    ),
    response: Obj('{ code, expiresAt, deviceId?, resetKey? }'),
    errors: ['unauthorized', 'forbidden', 'validation-failed', 'not-found', 'device-revoked'],
  },
  {
    method: 'get',
    path: '/api/v1/admin/devices',
    summary: 'Devices: last seen, version, logs, unsynced estimate',
    role: 'admin',
    errors: ['unauthorized', 'forbidden'],
  },
  {
    method: 'post',
    path: '/api/v1/admin/devices/{id}/revoke',
    summary: 'Revoke a device and all its tokens',
    role: 'admin',
    errors: ['unauthorized', 'forbidden', 'not-found'],
  },
  {
    method: 'post',
    path: '/api/v1/admin/devices/{id}/restore',
    summary: 'Lift a device’s revocation (audited); it then enrolls again with a code issued for it',
    role: 'admin',
    errors: ['unauthorized', 'forbidden', 'not-found', 'conflict'],
  },
  {
    method: 'get',
    path: '/api/v1/devices/me',
    summary: 'The calling device’s own record',
    role: 'device',
    errors: ['unauthorized', 'not-found'],
  },
  {
    method: 'post',
    path: '/api/v1/devices/me/events',
    summary: 'Report model-update events on the device (refused, rolled back, activated, drift warning)',
    role: 'device',
    request: DeviceEventBatchSchema,
    response: Obj('{ stored: event ids } (a retried event is stored once)'),
    errors: ['unauthorized', 'forbidden', 'invalid-json', 'validation-failed', 'body-too-large'],
  },
  {
    method: 'get',
    path: '/api/v1/admin/device-events',
    summary: 'Model-update events reported by devices, newest first (?deviceId= filters)',
    role: 'admin',
    response: Obj('{ events: [{ id, at, deviceId, kind, version, code?, message?, receivedAt }] }'),
    errors: ['unauthorized', 'forbidden'],
  },
  {
    method: 'post',
    path: '/api/v1/logs',
    summary: 'Ingest a batch of prediction logs (atomic, idempotent by id)',
    role: 'device',
    request: LogBatchRequestSchema,
    response: LogBatchResponseSchema,
    errors: [
      'invalid-json',
      'invalid-value',
      'validation-failed',
      'unknown-model-version',
      'id-reused',
      'body-too-large',
      'unsupported-media-type',
      'unauthorized',
      'forbidden',
      'rate-limited',
    ],
    description:
      'The whole batch is stored or none of it. A rejected batch answers 422 with `details.items[]` = { index, id, code, message, path } per bad item (item codes include `event-time-out-of-window`, `number-out-of-range`, `invalid-text`). A device may only send its own logs. Event time = `createdAt` (device clock), which must lie within EVENT_WINDOW_BACK_DAYS before and EVENT_WINDOW_AHEAD_DAYS after receipt; arrival time is kept. An id already stored with other content answers 409 `id-reused` (items listed); a byte-for-byte retry is a duplicate.',
  },
  {
    method: 'post',
    path: '/api/v1/outcomes',
    summary: 'Ingest ground-truth outcomes (idempotent by id)',
    role: 'device',
    request: OutcomeBatchRequestSchema,
    response: OutcomeBatchResponseSchema,
    errors: ['invalid-json', 'validation-failed', 'body-too-large', 'unauthorized', 'forbidden', 'rate-limited'],
    description:
      'Item codes include `invalid-text`, `invalid-date` and `event-time-out-of-window` (`recordedAt` outside the window of receipt, or a chart `date` after it).',
  },
  {
    method: 'post',
    path: '/api/v1/outcomes/chart-csv',
    summary: 'Upload a Kaggle chart CSV; becomes outcomes for every (song, country) it covers',
    role: 'admin',
    request: {
      contentType: 'text/csv',
      description:
        'Columns spotify_id, country (empty = global, ignored), optional snapshot_date. Query `date` dates the outcomes (default: the latest snapshot_date, else today).',
    },
    response: Obj('{ outcomes, stored, songs, countries, date }'),
    errors: ['unsupported-media-type', 'csv-missing-column', 'file-empty', 'no-usable-rows', 'body-too-large'],
  },
  {
    method: 'get',
    path: '/api/v1/outcomes/export',
    summary: 'Every outcome with the song’s 13 features, for retraining (NDJSON)',
    role: 'admin',
    query: [{ name: 'since', description: 'Only outcomes dated on or after this day (YYYY-MM-DD).' }],
    response: {
      contentType: 'application/x-ndjson',
      description:
        'One JSON object per line: { id, songId, fingerprint, country, charted, date, source, features: number[13] | null }. Features come from the catalogue by song id, else from the inputs a device logged for the song (by id, then fingerprint); null when neither knows it.',
    },
    errors: ['invalid-value'],
  },
  {
    method: 'get',
    path: '/api/v1/catalogue',
    summary: 'The song catalogue (gzip, ETag)',
    role: 'device',
    response: CatalogueSchema,
    errors: ['unauthorized'],
  },
  {
    method: 'put',
    path: '/api/v1/catalogue',
    summary: 'Replace the catalogue from a CSV',
    role: 'admin',
    request: { contentType: 'text/csv', description: 'spotify_id (or id), name, artists and the 13 feature columns.' },
    response: Obj('{ songs, rejected, rejectedRows, etag }'),
    errors: ['unsupported-media-type', 'csv-missing-column', 'file-empty', 'no-usable-rows'],
  },
  {
    method: 'get',
    path: '/api/v1/models',
    summary: 'All model versions with stage, metrics, lineage; rollout state',
    role: 'admin',
    errors: ['unauthorized', 'forbidden'],
  },
  {
    method: 'post',
    path: '/api/v1/models',
    summary: 'Publish a model version (becomes a candidate)',
    role: 'admin',
    request: Obj(
      '{ manifest: Manifest, files: { [path]: base64 } }: every file listed in the manifest, checked for bytes and sha256; the version must equal contentVersion(files); with a configured label key the manifest must carry a valid signature.',
    ),
    response: Obj('{ version, created } (201 new, 200 already published)'),
    errors: [
      'manifest-invalid',
      'hash-mismatch',
      'signature-missing',
      'signature-mismatch',
      'validation-failed',
      'body-too-large',
    ],
  },
  {
    method: 'get',
    path: '/api/v1/models/{version}',
    summary: 'One version: stage and manifest',
    role: 'admin',
    errors: ['unknown-model-version'],
  },
  {
    method: 'get',
    path: '/api/v1/models/{version}/manifest.json',
    summary: 'The version’s manifest (immutable; ETag)',
    role: 'device',
    response: ManifestSchema,
    errors: ['unknown-model-version'],
  },
  {
    method: 'get',
    path: '/api/v1/models/{version}/files/{path}',
    summary: 'A model file (immutable, long cache, ETag = sha256)',
    role: 'device',
    response: { contentType: 'application/octet-stream', description: 'The file bytes.' },
    errors: ['unknown-model-version', 'not-found'],
  },
  {
    method: 'post',
    path: '/api/v1/models/{version}/canary',
    summary: 'Canary a candidate for a % of devices (equal-size control group)',
    role: 'admin',
    request: Obj('{ percent: 1–50 }'),
    errors: ['unknown-model-version', 'conflict', 'validation-failed'],
  },
  {
    method: 'post',
    path: '/api/v1/models/{version}/promote',
    summary: 'Promote to production (old production archived, kept for rollback)',
    role: 'admin',
    errors: ['unknown-model-version', 'conflict'],
  },
  {
    method: 'post',
    path: '/api/v1/models/{version}/archive',
    summary: 'Archive a candidate or canary',
    role: 'admin',
    errors: ['unknown-model-version', 'conflict'],
  },
  {
    method: 'get',
    path: '/api/v1/rollout',
    summary: 'Rollout state (production, canary %, shadow) and recent audit entries',
    role: 'admin',
    errors: [],
  },
  {
    method: 'put',
    path: '/api/v1/rollout/shadow',
    summary: 'Set (or clear with null) the version devices run in shadow',
    role: 'admin',
    request: Obj('{ version: string | null }'),
    errors: ['unknown-model-version', 'conflict'],
  },
  {
    method: 'post',
    path: '/api/v1/rollout/rollback',
    summary: 'End the canary, or without one, restore the previous production',
    role: 'admin',
    errors: ['conflict'],
  },
  {
    method: 'get',
    path: '/api/v1/assignment',
    summary: 'Which version this device runs, its cohort and the shadow candidate',
    role: 'device',
    response: AssignmentSchema,
    errors: ['not-found'],
    query: [{ name: 'deviceId', description: 'Admins only: the device to ask for.' }],
    description:
      'Cohort by a stable hash bucket (0–99) of the device id: bucket < p → canary, p ≤ bucket < 2p → control (runs production), else production.',
  },
  {
    method: 'get',
    path: '/api/v1/audit',
    summary:
      'Who did what and when: publish, canary, promote, rollback, shadow, archive, enrollment codes, enrollments, device-token issue, revocations, retraining',
    role: 'admin',
    query: [
      {
        name: 'format',
        description: '`json` (default, `{ entries }`) or `csv` (a download: id, at, actor, action, details as JSON).',
      },
      { name: 'limit', description: 'Newest entries first, at most this many (1–100000, default 200).' },
      { name: 'since', description: 'Only entries at or after this ISO time.' },
      { name: 'action', description: 'Only this action, e.g. `promote`.' },
      { name: 'download', description: '`1`: JSON as an attachment.' },
    ],
    errors: ['validation-failed'],
  },
  {
    method: 'get',
    path: '/api/v1/jobs',
    summary: 'Retraining jobs (newest first) and the retraining settings',
    role: 'admin',
    response: Obj('{ jobs: Job[], settings: { autoOnAlert, source, command } }'),
    errors: [],
  },
  {
    method: 'post',
    path: '/api/v1/jobs',
    summary: 'Start a retraining job now (runs RETRAIN_COMMAND with JUKEBOX_SERVER and a job-scoped admin token)',
    role: 'admin',
    request: Obj('{ reason?: string } (optional)'),
    response: Obj('Job (202, status queued)'),
    errors: ['conflict'],
    description: '409 `conflict` when no RETRAIN_COMMAND is configured or a job is already queued or running.',
  },
  {
    method: 'get',
    path: '/api/v1/jobs/{id}',
    summary: 'One retraining job: status, exit code, log tail, candidate version it published',
    role: 'admin',
    errors: ['not-found'],
  },
  {
    method: 'get',
    path: '/api/v1/settings/retrain',
    summary: 'Whether an alert starts a retraining job',
    role: 'admin',
    response: Obj('{ autoOnAlert, source: setting | config, command }'),
    errors: [],
  },
  {
    method: 'put',
    path: '/api/v1/settings/retrain',
    summary: 'Switch retraining on alerts on or off (audited)',
    role: 'admin',
    request: Obj('{ autoOnAlert: boolean }'),
    errors: ['validation-failed', 'conflict'],
  },
  {
    method: 'get',
    path: '/api/v1/retraining/chains',
    summary: 'Per retraining job: alert → run → candidate → canary → promoted or rolled back',
    role: 'admin',
    response: Obj('{ settings, chains: { job, outcome, steps: { step, at, actor, summary }[] }[] }'),
    errors: [],
  },
  {
    method: 'get',
    path: '/api/v1/drift/report',
    summary: 'Drift report for a version and window',
    role: 'admin',
    query: windowQuery,
    errors: ['unknown-model-version', 'validation-failed'],
    description: `Per feature: PSI (proportions floored at 1e-4), Jensen–Shannon distance (base 2) and the KS statistic and p-value — on binned CDFs over the reference bin edges, asymptotic Kolmogorov distribution, n = the effective number of distinct songs — Holm-adjusted across the 13 features; a feature warns or alerts when PSI or JS reaches its threshold and the adjusted KS p-value is below ksPValue, and its \`decision\` names the statistic. Outputs: top-1 country and entropy PSI against a bootstrap null from the reference at the same n (\`top1Null\`, \`entropyNull\`). ${COUNTING_RULE} Fewer than minDistinct songs: status insufficient-data, no decisions.`,
  },
  {
    method: 'get',
    path: '/api/v1/drift/timeseries',
    summary: 'Drift statistics per day or week',
    role: 'admin',
    query: windowQuery,
    errors: ['unknown-model-version', 'validation-failed'],
  },
  {
    method: 'get',
    path: '/api/v1/performance',
    summary:
      'Macro and pooled ROC-AUC and top-5 hit with 95 % intervals, per period and over the window (concept drift)',
    role: 'admin',
    query: windowQuery,
    errors: ['unknown-model-version', 'validation-failed'],
    description:
      'Outcomes (by chart date; chart uploads derived from the stored chart) matched to the latest prediction of the same song id (its fingerprint only when the outcome has no id) by this version, in the chosen traffic kinds, made on or before the chart date and within matchHorizonDays. Unit: a song on a chart date. Macro AUC: per-country AUC averaged over countries with both classes; pooled AUC: over every (song, country) pair; top-5 hit: songs with a charted country. Each { value, lo, hi } (95 % bootstrap over songs), or null with `note` ("too few outcomes"). Unmatched outcomes are counted with the reason.',
  },
  {
    method: 'get',
    path: '/api/v1/shadow',
    summary:
      'Shadow comparison of candidates run beside a version: top-1 agreement, top-1 in the active top 5, mean |Δp|',
    role: 'admin',
    query: windowQuery.filter((q) => q.name !== 'granularity' && q.name !== 'kind'),
    errors: ['validation-failed'],
    description:
      'Every logged row with a shadow result counts (the question is how the two models differ on the traffic they see). Sums per (active version, shadow version, UTC day), merged for the window, with one point per day.',
  },
  {
    method: 'get',
    path: '/api/v1/alerts',
    summary: 'Alerts (query open=true for open ones only)',
    role: 'admin',
    errors: [],
  },
  {
    method: 'post',
    path: '/api/v1/alerts/evaluate',
    summary: 'Evaluate alert thresholds now (also runs on a timer)',
    role: 'admin',
    errors: [],
  },
  { method: 'get', path: '/api/v1/overview', summary: 'Counts for the dashboard', role: 'admin', errors: [] },
];

function schemaOf(s: RouteDoc['request']) {
  if (!s) return undefined;
  if (s instanceof z.ZodType) {
    return { 'application/json': { schema: z.toJSONSchema(s, { unrepresentable: 'any', io: 'input' }) } };
  }
  return { [s.contentType]: { schema: { description: s.description } } };
}

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const errorSchema = z.toJSONSchema(ApiErrorSchema, { unrepresentable: 'any' });
  for (const r of ROUTES) {
    const params = [
      ...[...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
        name: m[1],
        in: 'path',
        required: true,
        schema: { type: 'string' },
      })),
      ...(r.query ?? []).map((q) => ({
        name: q.name,
        in: 'query',
        required: q.required ?? false,
        description: q.description,
        schema: { type: 'string' },
      })),
    ];
    const responses: Record<string, unknown> = {
      '200': { description: 'OK', ...(r.response ? { content: schemaOf(r.response) } : {}) },
    };
    if (r.errors.length > 0) {
      responses['4XX'] = {
        description: `Error codes: ${r.errors.join(', ')}`,
        content: { 'application/json': { schema: errorSchema } },
      };
    }
    paths[r.path] = {
      ...paths[r.path],
      [r.method]: {
        summary: r.summary,
        ...(r.description ? { description: r.description } : {}),
        security: r.role === 'public' ? [] : [{ bearer: [] }],
        'x-role': r.role,
        ...(params.length > 0 ? { parameters: params } : {}),
        ...(r.request ? { requestBody: { required: true, content: schemaOf(r.request) } } : {}),
        responses,
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Jukebox Edge server',
      version: '1',
      description:
        'Ingest, model registry, rollout, drift and performance monitoring. Every error is { error: { code, message, details } } with a code from model/contract/errors.ts. Roles: device tokens (from enrollment) and admin tokens; admin may call every device route.',
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}
