/**
 * Starts the server: config (printed once, secrets masked), store and
 * migrations, first-start bootstrap, the HTTP listener and the alert timer.
 * Run with `node --max-semi-space-size=64 --import tsx server/main.ts` (the product's `npm start`; the flag
 * cuts the garbage collector's time per log batch by about 40 %). With
 * SERVER_WORKERS > 1 the primary process does the one-time work and forks
 * HTTP workers that share the port (node:cluster); the primary aggregates
 * /metrics across workers. Alert evaluation runs once per interval across every
 * worker and instance on the store (jobs/scheduler.ts).
 */
import cluster from 'node:cluster';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { AggregatorRegistry } from 'prom-client';
import { defaultKeyDir, PUBLIC_KEY_FILE } from '../model/admin/label-keys.ts';
import { ENDPOINTS } from '../model/contract/index.ts';
import { createApp } from './app.ts';
import { type Config, describeConfig, loadConfig } from './config.ts';
import { schedulePeriodic } from './jobs/scheduler.ts';
import { bootstrap, createServices } from './services.ts';

interface MetricsRequest {
  type: 'jukebox:metrics';
  id: number;
}
interface MetricsReply {
  type: 'jukebox:metrics-reply';
  id: number;
  text: string;
}

async function firstStart(config: Config): Promise<void> {
  console.log(`jukebox server config:\n${describeConfig(config)}`);
  const deps = await createServices(config);
  const boot = await bootstrap(deps);
  const stale = await deps.jobs.recover();
  if (stale > 0) console.warn(`retraining: ${stale} job(s) left running by a stopped server marked failed`);
  if (config.retrainCommand) {
    const s = await deps.jobs.settings();
    console.log(`retraining: command configured; on alerts ${s.autoOnAlert ? 'ON' : 'off'} (${s.source})`);
  }
  console.log(`store: ${deps.store.dialect} at ${deps.store.location}`);
  if ('version' in boot.defaultModel) {
    console.log(
      `default model: ${boot.defaultModel.version}${boot.defaultModel.created ? ' registered' : ' already registered'}`,
    );
  } else if ('missing' in boot.defaultModel) {
    console.warn(
      `default model: NOT FOUND at ${boot.defaultModel.missing}; starting without a model (devices get no assignment until one is published)`,
    );
  } else console.warn(`default model: could not be registered: ${boot.defaultModel.failed}`);
  if ('songs' in boot.catalogue) {
    const rejected = boot.catalogue.rejected > 0 ? `, ${boot.catalogue.rejected} rows rejected (invalid features)` : '';
    console.log(`catalogue: ${boot.catalogue.songs} songs (${boot.catalogue.source}${rejected})`);
  } else
    console.warn(
      `catalogue: NOT FOUND at ${boot.catalogue.missing}; starting without one (set CATALOGUE_PATH, or JUKEBOX_DATA_DIR to the shared data folder, or upload one with PUT ${ENDPOINTS.replaceCatalogue.path})`,
    );
  if (boot.adminToken) {
    console.log('\n================ ADMIN TOKEN (shown once, store it now) ================');
    console.log(boot.adminToken);
    console.log('=======================================================================\n');
  }
  await deps.store.close();
}

/** One HTTP server; `worker` is the cluster worker index, or null in single-process mode. */
async function runHttp(config: Config, worker: number | null): Promise<void> {
  // prom-client answers the primary's collection requests only once an AggregatorRegistry exists in the worker:
  // make it first, so a scrape during start-up does not wait for this worker until it times out.
  if (worker !== null) void new AggregatorRegistry();
  const deps = await createServices(config);
  deps.logParser.warm();
  let metricsText: (() => Promise<string>) | undefined;
  if (worker !== null) {
    AggregatorRegistry.setRegistries([deps.metrics.registry]);
    let next = 0;
    const waiting = new Map<number, (text: string) => void>();
    process.on('message', (m: MetricsReply) => {
      if (m?.type === 'jukebox:metrics-reply') waiting.get(m.id)?.(m.text);
      waiting.delete(m?.id);
    });
    metricsText = () =>
      new Promise((resolve) => {
        const id = next++;
        waiting.set(id, resolve);
        process.send?.({ type: 'jukebox:metrics', id } satisfies MetricsRequest);
      });
  }
  const app = createApp(deps, metricsText ? { metricsText } : {});
  // Retraining jobs run in one process per instance; across instances the store admits one queued or running
  // job (a unique index) and one runner claims it.
  deps.jobs.active = worker === null || worker === 0;
  const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, (info) => {
    const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    deps.jobs.serverUrl = `http://${host.includes(':') ? `[${host}]` : host}:${info.port}`;
    if (deps.jobs.active) deps.jobs.startPolling();
    if (worker === null || worker === 0) {
      const w = worker === null ? '' : ` with ${config.workers} workers`;
      const base = `http://${config.host}:${info.port}`;
      console.log(
        [
          `listening on ${base}${w}`,
          `  the app:          ${base}/   (installable; predicts offline after the first visit)`,
          `  admin dashboard:  ${base}/admin/   (sign in with the admin token)`,
          `  enroll a device:  dashboard → Devices → "New enrollment code", then type the code in the app's`,
          `                    "Enroll" panel, or open ${base}/?enroll=<code> on the device`,
          `  API description:  ${base}${ENDPOINTS.openapi.path}`,
        ].join('\n'),
      );
    }
  });
  // Every instance and worker runs the timer; the store hands each interval to exactly one of them (scheduler.ts).
  const stopAlerts =
    config.alertIntervalS > 0
      ? schedulePeriodic(
          deps.store,
          'alert-evaluation',
          config.alertIntervalS,
          async () => {
            await deps.alerts.evaluate();
            deps.metrics.scheduledRuns.inc({ task: 'alert-evaluation' });
          },
          (line) => console.error(line),
        )
      : undefined;
  const stop = () => {
    stopAlerts?.();
    deps.jobs.stop();
    server.close(() => {
      deps.store.close().finally(() => process.exit(0));
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/**
 * On the admin's own machine the label key pair made by `npm run model -- keygen` sits in the key dir:
 * use its public half when LABEL_PUBLIC_KEY_FILE is not set, so the two-command set-up verifies
 * signatures without more configuration. (Only the public key; the private one never reaches the server.)
 */
function withLabelKeyFromKeyDir(config: Config): Config {
  if (config.labelPublicKeyFile) return config;
  const candidate = join(defaultKeyDir(), PUBLIC_KEY_FILE);
  if (existsSync(candidate)) {
    console.log(`label public key: ${candidate} (from the key dir; set LABEL_PUBLIC_KEY_FILE to use another)`);
    return { ...config, labelPublicKeyFile: candidate };
  }
  console.warn(
    'label public key: none. Devices will refuse model updates until one is set: run `npm run model -- keygen`, then restart.',
  );
  return config;
}

async function main(): Promise<void> {
  const config = withLabelKeyFromKeyDir(loadConfig());
  if (config.workers === 1) {
    await firstStart(config);
    await runHttp(config, null);
    return;
  }
  if (cluster.isPrimary) {
    await firstStart(config);
    const aggregator = new AggregatorRegistry();
    for (let i = 0; i < config.workers; i++) {
      const w = cluster.fork({ JUKEBOX_WORKER: String(i) });
      w.on('message', async (m: MetricsRequest) => {
        if (m?.type !== 'jukebox:metrics') return;
        const text = await aggregator.clusterMetrics().catch((e: unknown) => `# aggregation failed: ${String(e)}\n`);
        w.send({ type: 'jukebox:metrics-reply', id: m.id, text } satisfies MetricsReply);
      });
    }
    cluster.on('exit', (w, code) => console.error(`worker ${w.process.pid} exited (${code})`));
    const stop = () => {
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
      setTimeout(() => process.exit(0), 3000).unref();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    return;
  }
  await runHttp(config, Number(process.env.JUKEBOX_WORKER ?? 0));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
