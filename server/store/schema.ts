/** Table types of the store (one shape for SQLite and PostgreSQL; times are ISO strings, JSON is text). */
import type { Generated } from 'kysely';

export interface LogsTable {
  id: string;
  device_id: string;
  model_version: string;
  backend: string;
  latency_ms: number;
  created_at: string;
  /** UTC day of created_at (event time), the drift bucket key. */
  day: string;
  received_at: string;
  source: string;
  song_id: string | null;
  fingerprint: string;
  /** float64 blobs (store/vectors.ts). */
  inputs: Uint8Array;
  outputs: Uint8Array;
  shadow: string | null;
  /** Traffic kind (model/contract/prediction-log.ts); null on rows stored before the field. */
  traffic: string | null;
}

/** One row per (version, traffic kind, song key): see server/drift/window-songs.ts. */
export interface DriftSongsTable {
  model_version: string;
  kind: string;
  /** `s:<song id>|<feature fingerprint>`, or `f:<feature fingerprint>` for a song without an id (drift/window-songs.ts). */
  song_key: string;
  /** The device of its earliest day (event time): the per-device cap attributes the song to it. */
  device_id: string;
  first_day: string;
  last_day: string;
  /** The UTC days it was predicted on, as `,YYYY-MM-DD,YYYY-MM-DD,`. */
  days: string;
  /** JSON: reference bin per feature, then the top-1 country index, then the entropy bin. */
  bins: string;
}

/** A chart for one date: the countries it covers; `complete` once every song and entry is written. */
export interface ChartDatesTable {
  date: string;
  countries: string;
  complete: number;
  uploaded_at: string;
}

export interface ChartSongsTable {
  date: string;
  song_id: string;
}

export interface ChartEntriesTable {
  date: string;
  song_id: string;
  country: string;
}

/**
 * The latest prediction of each day per (version, traffic kind, song): what outcome matching reads
 * (`drift/performance.ts`) instead of every log, so the logs table needs no index by song. `match_key` is
 * `s:<song id>` for a log with a song id, and `f:<feature fingerprint>` for every log (an outcome without a
 * song id is matched by its fingerprint). Latest is the greatest `created_at`; on a tie, the later write.
 */
export interface PredictionDaysTable {
  model_version: string;
  match_key: string;
  kind: string;
  day: string;
  created_at: string;
  /** The log (`logs.id`) that made this prediction: its outputs are read from there, not copied here. */
  log_id: string;
}

export interface DayFingerprintsTable {
  model_version: string;
  day: string;
  fingerprint: string;
}

export interface DriftBucketsTable {
  model_version: string;
  day: string;
  stats: string;
  updated_at: string;
}

/** Shadow comparison per (active version, shadow version, UTC day): a ShadowStats JSON. */
export interface ShadowBucketsTable {
  model_version: string;
  shadow_version: string;
  day: string;
  stats: string;
  updated_at: string;
}

export interface SongPredictionsTable {
  model_version: string;
  fingerprint: string;
  song_id: string | null;
  outputs: Uint8Array;
}

export interface OutcomesTable {
  id: string;
  song_id: string | null;
  fingerprint: string | null;
  country: string;
  charted: number;
  date: string;
  source: string;
  device_id: string | null;
  recorded_at: string;
  received_at: string;
}

export interface ModelsTable {
  version: string;
  stage: string;
  manifest: string;
  created_at: string;
  published_at: string;
  published_by: string;
  /** Production version this one replaced when promoted (for rollback). */
  replaced: string | null;
}

export interface ModelFilesTable {
  version: string;
  path: string;
  sha256: string;
  bytes: number;
  data: Uint8Array;
}

export interface TokensTable {
  hash: string;
  role: string;
  subject: string;
  created_at: string;
  revoked_at: string | null;
}

export interface EnrollmentCodesTable {
  hash: string;
  created_by: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
  device_id: string | null;
  /** Set for a re-enrollment code: only this (existing, not revoked) device may use it. */
  for_device_id: string | null;
  /** 1: the enrollment tells the device that the admin reset its pinned label key (shown on the device). */
  reset_key: Generated<number>;
}

/** What a device reported about model updates on it: telemetry, never governance (see routes/device-events.ts). */
export interface DeviceEventsTable {
  /** Server-assigned (UUIDv7 at receipt): orders the table by when the server heard of it. */
  id: string;
  device_id: string;
  /** The device's own id for the event (a retry is stored once). */
  event_id: string;
  kind: string;
  version: string;
  code: string | null;
  message: string | null;
  /** Device clock, as reported. */
  at: string;
  received_at: string;
}

/** A periodic task's run claimed for one interval slot by one instance. */
export interface SchedulerRunsTable {
  name: string;
  slot: number;
  claimed_by: string;
  claimed_at: string;
}

export interface DevicesTable {
  id: string;
  label: string | null;
  enrolled_at: string;
  last_seen_at: string | null;
  /** Latest prediction time (device clock) among the logs it synced. */
  last_event_at: string | null;
  last_version: string | null;
  logs_total: number;
  revoked_at: string | null;
}

export interface RolloutTable {
  id: number;
  canary_version: string | null;
  canary_percent: number;
  shadow_version: string | null;
  updated_at: string;
  updated_by: string;
}

export interface AuditTable {
  id: string;
  at: string;
  actor: string;
  action: string;
  details: string;
}

export interface AlertsTable {
  id: string;
  episode_key: string;
  model_version: string;
  metric: string;
  feature: string | null;
  severity: string;
  /** The statistic that crossed (psi, js, psi-excess, macro-auc-drop); null on episodes stored before it. */
  statistic: string | null;
  value: number;
  threshold: number;
  message: string;
  opened_at: string;
  updated_at: string;
  resolved_at: string | null;
  notified_at: string | null;
}

export interface CatalogueTable {
  id: string;
  name: string;
  artists: string;
  features: string;
}

/** A retraining job: queued → running → succeeded | failed (see server/jobs/job-runner.ts). */
export interface JobsTable {
  id: string;
  kind: string;
  status: string;
  /** 'alert' or 'manual'. */
  trigger: string;
  alert_id: string | null;
  requested_by: string;
  command: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  exit_code: number | null;
  log_tail: string;
  /** Version the job published (found in the audit log by the job's own actor). */
  candidate_version: string | null;
  /** Beaten by the running instance every 2 s; a stale one marks a job left by a dead process. */
  heartbeat_at?: string | null;
}

/** Admin-set switches that outlive a restart (JSON values). */
export interface SettingsTable {
  key: string;
  value: string;
  updated_at: string;
  updated_by: string;
}

export interface MigrationsTable {
  name: string;
  applied_at: string;
  seq: Generated<number>;
}

export interface Database {
  logs: LogsTable;
  drift_songs: DriftSongsTable;
  chart_dates: ChartDatesTable;
  chart_songs: ChartSongsTable;
  chart_entries: ChartEntriesTable;
  day_fingerprints: DayFingerprintsTable;
  prediction_days: PredictionDaysTable;
  drift_buckets: DriftBucketsTable;
  shadow_buckets: ShadowBucketsTable;
  song_predictions: SongPredictionsTable;
  outcomes: OutcomesTable;
  models: ModelsTable;
  model_files: ModelFilesTable;
  tokens: TokensTable;
  enrollment_codes: EnrollmentCodesTable;
  devices: DevicesTable;
  rollout: RolloutTable;
  audit: AuditTable;
  alerts: AlertsTable;
  catalogue: CatalogueTable;
  jobs: JobsTable;
  settings: SettingsTable;
  device_events: DeviceEventsTable;
  scheduler_runs: SchedulerRunsTable;
}
