/** Everything the routes need, built once by `createServices` (main and tests). */
import type { AlertService } from './alerts/alert-service.ts';
import type { RateLimiter } from './auth/rate-limit.ts';
import type { TokenService } from './auth/tokens.ts';
import type { CatalogueService } from './catalogue/catalogue.ts';
import type { Config } from './config.ts';
import type { DriftService } from './drift/drift-service.ts';
import type { DeviceFirst } from './ingest/device-first.ts';
import type { LogIngest } from './ingest/log-ingest.ts';
import type { LogParser } from './ingest/log-parse-pool.ts';
import type { OutcomeIngest } from './ingest/outcome-ingest.ts';
import type { JobRunner } from './jobs/job-runner.ts';
import type { Metrics } from './monitoring/metrics.ts';
import type { Registry } from './registry/registry.ts';
import type { Store } from './store/store.ts';

export interface Deps {
  config: Config;
  store: Store;
  tokens: TokenService;
  limiter: RateLimiter;
  /** Failed authentications per client address (per instance). */
  authFailures: RateLimiter;
  registry: Registry;
  /** Parses log batch bodies, on threads of their own by default (INGEST_PARSE_THREADS). */
  logParser: LogParser;
  logIngest: LogIngest;
  outcomeIngest: OutcomeIngest;
  /** Device batches before long admin work (a chart upload waits its turn between steps). */
  deviceFirst: DeviceFirst;
  drift: DriftService;
  alerts: AlertService;
  catalogue: CatalogueService;
  /** Retraining jobs (RETRAIN_COMMAND), started by an admin or by an alert when switched on. */
  jobs: JobRunner;
  metrics: Metrics;
  /** The label's public signing key (JWK), when configured: publish requires a valid signature. */
  publicKey: JsonWebKey | null;
  log: (line: string) => void;
}
