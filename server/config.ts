/**
 * Server configuration: defaults, then environment variables, validated with
 * zod once at start. `describeConfig` gives the one line-per-key summary that
 * main prints (secrets masked).
 */
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { sharedDataFile } from '../model/shared-data.ts';

export const ThresholdsSchema = z.object({
  /**
   * Feature drift is decided on effect size: PSI or Jensen–Shannon distance at or above these. 0.1 / 0.25 is
   * the credit-scoring rule of thumb for PSI; Evidently uses 0.1 for JS distance.
   */
  psiWarn: z.number().positive().default(0.1),
  psiAlert: z.number().positive().default(0.25),
  jsWarn: z.number().positive().default(0.1),
  jsAlert: z.number().positive().default(0.2),
  /**
   * …and only with enough independent evidence: the KS test on the window's distinct songs (each song once,
   * Kish's effective n after device weights), p-value after correction across the 13 features, below this.
   * KS alone never raises anything.
   */
  ksPValue: z.number().positive().max(1).default(0.05),
  /** Multiple-testing correction of the 13 KS p-values: Holm (family-wise error) or Benjamini–Hochberg (false discovery rate). */
  ksCorrection: z.enum(['holm', 'bh']).default('holm'),
  /**
   * Prediction drift: PSI of the top-1 country and of the output entropy histogram, *in excess of* what the
   * reference alone gives at the same n (median of a bootstrap null), and above the null's 99th percentile.
   */
  outputPsiWarn: z.number().positive().default(0.1),
  outputPsiAlert: z.number().positive().default(0.25),
  /** Concept drift: drop of macro ROC-AUC below the manifest's macro AUC, beyond the confidence interval. */
  aucDropWarn: z.number().positive().default(0.05),
  aucDropAlert: z.number().positive().default(0.1),
  /** Fewer distinct songs than this in the window: "not enough data", no statistics, no alert. */
  minDistinct: z.number().int().positive().default(100),
  /** A device's songs are weighted down to at most this share of a window (with two devices or more). */
  maxDeviceShare: z.number().positive().max(1).default(0.5),
  /** An outcome is judged against the latest prediction of its song made at most this many days before its chart date. */
  matchHorizonDays: z.number().int().positive().default(90),
  /** Fewer songs with outcomes than this (or fewer than 2 countries with both classes): "too few outcomes". */
  minOutcomeSongs: z.number().int().positive().default(30),
  /** The performance alert looks at outcomes dated in the last N days. */
  performanceWindowDays: z.number().int().positive().default(28),
});
export type Thresholds = z.infer<typeof ThresholdsSchema>;

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const ConfigSchema = z.object({
  host: z.string().default('127.0.0.1'),
  port: z.coerce.number().int().min(1).max(65535).default(8787),
  dataDir: z.string().default('./data'),
  /** Absent or `sqlite:<path>` → SQLite (default `<dataDir>/jukebox.sqlite`); `postgres://…` → PostgreSQL. */
  databaseUrl: z.string().optional(),
  /**
   * SQLite durability (store/store.ts): GROUP (default) answers a write only after a shared fsync of the log, off
   * the event loop; FULL syncs inside every commit; NORMAL may lose the last acknowledged writes on power loss.
   */
  sqliteSynchronous: z.enum(['GROUP', 'FULL', 'NORMAL']).default('GROUP'),
  /**
   * SQLite checkpoints: `thread` (default) copies the write-ahead log into the database from a worker thread;
   * `commit` is SQLite's own auto-checkpoint inside the commit that fills the log (kept for the benchmark's A/B).
   */
  sqliteCheckpoint: z.enum(['thread', 'commit']).default('thread'),
  defaultModelDir: z.string().default('public/models/default'),
  cataloguePath: z.string().default(sharedDataFile('song-catalog.csv')),
  webDist: z.string().default('dist/web'),
  /** Origin of the PWA when it is served from elsewhere (CORS is allowed only for it). */
  appOrigin: z.string().optional(),
  labelPublicKeyFile: z.string().optional(),
  /** A fixed admin token (otherwise one is generated on first start and printed once). */
  adminToken: z
    .string()
    .regex(
      /^[A-Za-z0-9_-]{32,200}$/,
      '32–200 characters of A–Z, a–z, 0–9, _ and - (a bearer token; e.g. `openssl rand -base64 32 | tr +/ -_ | tr -d =`)',
    )
    .optional(),
  alertWebhookUrl: z.url().optional(),
  alertIntervalS: z.coerce.number().int().min(0).default(60),
  driftWindowDays: z.coerce.number().int().min(1).max(365).default(7),
  thresholds: ThresholdsSchema.default(ThresholdsSchema.parse({})),
  rateLimitPerMinute: z.coerce.number().int().positive().default(1200),
  logBodyLimitBytes: z.coerce
    .number()
    .int()
    .positive()
    .default(4 * 1024 * 1024),
  publishBodyLimitBytes: z.coerce
    .number()
    .int()
    .positive()
    .default(64 * 1024 * 1024),
  csvBodyLimitBytes: z.coerce
    .number()
    .int()
    .positive()
    .default(32 * 1024 * 1024),
  metricsPublic: bool.default(false),
  /** Behind a load balancer: take the client address from the last X-Forwarded-For entry (per-address limits). */
  trustProxy: z.union([z.boolean(), bool]).default(false),
  /** Failed authentications (unknown, revoked or malformed tokens) per client address per minute, then 429. */
  authFailuresPerMinute: z.coerce.number().int().positive().default(30),
  /** Body limit of every route without its own (JSON admin routes, enrollment), enforced while reading. */
  jsonBodyLimitBytes: z.coerce
    .number()
    .int()
    .positive()
    .default(64 * 1024),
  /**
   * HTTP worker processes (node:cluster) sharing the port and the store; 1 = a single process.
   * Rate limits and caches are per worker.
   */
  workers: z.coerce.number().int().min(1).max(64).default(1),
  /**
   * Threads that parse and check log batch bodies beside the event loop (ingest/log-parse-pool.ts); 0 parses in
   * process. Default: 1 where the machine has two or more cores.
   */
  ingestParseThreads: z.coerce
    .number()
    .int()
    .min(0)
    .max(16)
    .default(availableParallelism() > 1 ? 1 : 0),
  /**
   * Retraining command run by the job runner (through `sh -c`) with JUKEBOX_SERVER and a short-lived
   * JUKEBOX_ADMIN_TOKEN in its environment, e.g. `npm run pipeline -- --from-server "$JUKEBOX_SERVER" --publish`.
   * Unset: retraining jobs cannot be started.
   */
  retrainCommand: z.string().min(1).optional(),
  /** Start a retraining job when an alert opens (the dashboard's toggle overrides this; off by default). */
  retrainOnAlert: z.union([z.boolean(), bool]).default(false),
  /** A retraining job running longer than this is killed and marked failed. */
  retrainTimeoutS: z.coerce.number().int().min(1).default(3600),
  /** Event times (log createdAt, outcome recordedAt) must lie within this many days before / after receipt. */
  eventWindowBackDays: z.coerce.number().int().min(1).max(3650).default(90),
  eventWindowAheadDays: z.coerce.number().int().min(0).max(365).default(1),
  /** How long a looked-up token stays cached in memory (revocation on this instance is immediate). */
  tokenCacheMs: z.coerce.number().int().min(0).default(5000),
});
export type Config = z.infer<typeof ConfigSchema>;

const ENV_KEYS: Record<string, keyof Config> = {
  HOST: 'host',
  PORT: 'port',
  DATA_DIR: 'dataDir',
  DATABASE_URL: 'databaseUrl',
  SQLITE_SYNCHRONOUS: 'sqliteSynchronous',
  SQLITE_CHECKPOINT: 'sqliteCheckpoint',
  DEFAULT_MODEL_DIR: 'defaultModelDir',
  CATALOGUE_PATH: 'cataloguePath',
  WEB_DIST: 'webDist',
  APP_ORIGIN: 'appOrigin',
  LABEL_PUBLIC_KEY_FILE: 'labelPublicKeyFile',
  ADMIN_TOKEN: 'adminToken',
  ALERT_WEBHOOK_URL: 'alertWebhookUrl',
  ALERT_INTERVAL_S: 'alertIntervalS',
  DRIFT_WINDOW_DAYS: 'driftWindowDays',
  RATE_LIMIT_PER_MINUTE: 'rateLimitPerMinute',
  LOG_BODY_LIMIT_BYTES: 'logBodyLimitBytes',
  PUBLISH_BODY_LIMIT_BYTES: 'publishBodyLimitBytes',
  CSV_BODY_LIMIT_BYTES: 'csvBodyLimitBytes',
  METRICS_PUBLIC: 'metricsPublic',
  TRUST_PROXY: 'trustProxy',
  AUTH_FAILURES_PER_MINUTE: 'authFailuresPerMinute',
  JSON_BODY_LIMIT_BYTES: 'jsonBodyLimitBytes',
  TOKEN_CACHE_MS: 'tokenCacheMs',
  EVENT_WINDOW_BACK_DAYS: 'eventWindowBackDays',
  EVENT_WINDOW_AHEAD_DAYS: 'eventWindowAheadDays',
  SERVER_WORKERS: 'workers',
  INGEST_PARSE_THREADS: 'ingestParseThreads',
  RETRAIN_COMMAND: 'retrainCommand',
  RETRAIN_ON_ALERT: 'retrainOnAlert',
  RETRAIN_TIMEOUT_S: 'retrainTimeoutS',
};

const SECRET: ReadonlySet<keyof Config> = new Set(['adminToken', 'alertWebhookUrl']);

/** Defaults → environment (→ explicit overrides, for tests). Throws with every problem listed. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const raw: Record<string, unknown> = {};
  for (const [envKey, key] of Object.entries(ENV_KEYS)) {
    const v = env[envKey];
    if (v !== undefined && v !== '') raw[key] = v;
  }
  if (env.DRIFT_THRESHOLDS) {
    try {
      raw.thresholds = JSON.parse(env.DRIFT_THRESHOLDS);
    } catch (cause) {
      throw new Error('DRIFT_THRESHOLDS must be JSON, e.g. {"psiWarn":0.1}', { cause });
    }
  }
  const parsed = ConfigSchema.safeParse({ ...raw, ...overrides });
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid server configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

function mask(key: keyof Config, value: unknown): string {
  if (value === undefined) return '(unset)';
  if (SECRET.has(key)) return '****';
  if (key === 'databaseUrl' && typeof value === 'string') return value.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:****@');
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** One line per key, secrets masked. */
export function describeConfig(config: Config): string {
  return (Object.keys(ConfigSchema.shape) as (keyof Config)[])
    .map((k) => `  ${k.padEnd(22)} ${mask(k, config[k])}`)
    .join('\n');
}
