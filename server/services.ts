/**
 * Wires the store and services together (main and tests), and the first-start
 * bootstrap: admin token, default model as the first production version,
 * catalogue from its CSV.
 */

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyManifest } from '../model/signing/manifest-signature.ts';
import { AlertService, type WebhookSender } from './alerts/alert-service.ts';
import { RateLimiter } from './auth/rate-limit.ts';
import { TokenService } from './auth/tokens.ts';
import { CatalogueService, parseCatalogueCsv } from './catalogue/catalogue.ts';
import type { Config } from './config.ts';
import type { Deps } from './deps.ts';
import { DriftService } from './drift/drift-service.ts';
import { backfillDriftSongs } from './drift/window-songs.ts';
import { DeviceFirst } from './ingest/device-first.ts';
import { LogIngest } from './ingest/log-ingest.ts';
import { logParser } from './ingest/log-parse-pool.ts';
import { OutcomeIngest } from './ingest/outcome-ingest.ts';
import { JobRunner } from './jobs/job-runner.ts';
import { Metrics } from './monitoring/metrics.ts';
import { recordAudit } from './registry/audit.ts';
import { Registry } from './registry/registry.ts';
import { openStore } from './store/store.ts';

export async function createServices(
  config: Config,
  opts: { log?: (line: string) => void; webhookSender?: WebhookSender } = {},
): Promise<Deps> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const store = await openStore(config.databaseUrl, config.dataDir, {
    sqliteSynchronous: config.sqliteSynchronous,
    sqliteCheckpoint: config.sqliteCheckpoint,
  });
  let publicKey: JsonWebKey | null = null;
  if (config.labelPublicKeyFile) {
    try {
      const jwk = JSON.parse(readFileSync(config.labelPublicKeyFile, 'utf8')) as JsonWebKey;
      // Only the public members: a private key put here by mistake must never reach a device.
      publicKey = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
    } catch (cause) {
      throw new Error(`LABEL_PUBLIC_KEY_FILE ${config.labelPublicKeyFile} is not a readable JWK`, { cause });
    }
  }
  const key = publicKey;
  const registry = new Registry(store, key ? (m) => verifyManifest(m, key) : null);
  const drift = new DriftService(store, registry, () => config.thresholds);
  const metrics = new Metrics();
  metrics.fleetSource = async () => {
    const rows = await store.db
      .selectFrom('devices')
      .select(['last_version', (eb) => eb.fn.countAll<number>().as('n')])
      .where('revoked_at', 'is', null)
      .groupBy('last_version')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.last_version ?? 'none', Number(r.n)]));
  };
  const tokens = new TokenService(store, config.tokenCacheMs);
  const alerts = new AlertService(store, registry, drift, metrics, {
    thresholds: () => config.thresholds,
    windowDays: config.driftWindowDays,
    ...(config.alertWebhookUrl ? { webhookUrl: config.alertWebhookUrl } : {}),
    ...(opts.webhookSender ? { send: opts.webhookSender } : {}),
  });
  const jobs = new JobRunner(store, tokens, {
    command: config.retrainCommand,
    autoOnAlertDefault: config.retrainOnAlert,
    timeoutS: config.retrainTimeoutS,
    log,
  });
  alerts.onOpened = (opened) => jobs.onAlertsOpened(opened);
  const deviceFirst = new DeviceFirst();
  return {
    config,
    store,
    tokens,
    limiter: new RateLimiter(config.rateLimitPerMinute),
    authFailures: new RateLimiter(config.authFailuresPerMinute),
    registry,
    logParser: logParser(config.ingestParseThreads, log),
    logIngest: new LogIngest(store, registry),
    outcomeIngest: new OutcomeIngest(store, deviceFirst),
    deviceFirst,
    drift,
    alerts,
    catalogue: new CatalogueService(store),
    jobs,
    metrics,
    publicKey,
    log,
  };
}

export interface BootstrapResult {
  /** Only on the very first start (no admin token yet): shown once, never stored in clear. */
  adminToken: string | null;
  defaultModel: { version: string; created: boolean } | { missing: string } | { failed: string };
  catalogue: { songs: number; rejected: number; source: string } | { missing: string };
}

/** Idempotent first-start work; safe on every start. */
export async function bootstrap(deps: Deps): Promise<BootstrapResult> {
  const { config } = deps;
  let adminToken: string | null = null;
  if (config.adminToken) {
    const revoked = await deps.tokens.ensureConfigured(config.adminToken);
    if (revoked > 0) await recordAudit(deps.store.db, 'server', 'admin-token-rotated', { revokedTokens: revoked });
  } else if (!(await deps.tokens.hasAdmin())) adminToken = await deps.tokens.issue('admin', 'admin');

  let defaultModel: BootstrapResult['defaultModel'];
  const manifestPath = join(config.defaultModelDir, 'manifest.json');
  if (!existsSync(manifestPath)) defaultModel = { missing: manifestPath };
  else {
    try {
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { files?: { path: string }[] };
      const files = new Map<string, Uint8Array>();
      for (const f of manifest.files ?? [])
        files.set(f.path, new Uint8Array(readFileSync(join(config.defaultModelDir, f.path))));
      const hasProduction = (await deps.registry.production()) !== null;
      defaultModel = await deps.registry.publish(
        manifest,
        files,
        'bootstrap',
        hasProduction ? 'candidate' : 'production',
        { bundled: true },
      );
    } catch (e) {
      defaultModel = {
        failed: e instanceof Error ? `${e.message}${'details' in e ? ` ${JSON.stringify(e.details)}` : ''}` : String(e),
      };
    }
  }

  // A store from before per-window song counting: fill the song rows from the stored logs once.
  const backfilled = await backfillDriftSongs(deps.store, (v) => deps.registry.reference(v));
  if (backfilled > 0) deps.log(`drift: counted the songs of ${backfilled} stored logs for per-window drift`);

  let catalogue: BootstrapResult['catalogue'];
  const count = await deps.catalogue.count();
  if (count > 0) catalogue = { songs: count, rejected: 0, source: 'store' };
  else if (existsSync(config.cataloguePath)) {
    const parsed = parseCatalogueCsv(readFileSync(config.cataloguePath, 'utf8'));
    await deps.catalogue.replace(parsed.songs);
    catalogue = { songs: parsed.songs.length, rejected: parsed.rejected.length, source: config.cataloguePath };
  } else catalogue = { missing: config.cataloguePath };
  return { adminToken, defaultModel, catalogue };
}
