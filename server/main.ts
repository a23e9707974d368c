/**
 * Starts the server: config (printed once, secrets masked), store and
 * migrations, first-start bootstrap, the HTTP listener and the alert timer.
 * Run with `tsx server/main.ts` (the product's `npm start`).
 */
import { serve } from '@hono/node-server';
import { createApp } from './app.ts';
import { describeConfig, loadConfig } from './config.ts';
import { bootstrap, createServices } from './services.ts';

async function main(): Promise<void> {
  const config = loadConfig();
  console.log(`jukebox server config:\n${describeConfig(config)}`);
  const deps = await createServices(config);
  const boot = await bootstrap(deps);
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
  } else console.warn(`catalogue: NOT FOUND at ${boot.catalogue.missing}; upload one with PUT /api/v1/catalogue`);
  if (boot.adminToken) {
    console.log('\n================ ADMIN TOKEN (shown once, store it now) ================');
    console.log(boot.adminToken);
    console.log('=======================================================================\n');
  }
  const app = createApp(deps);
  const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, (info) => {
    console.log(
      `listening on http://${config.host}:${info.port}  (admin dashboard: /admin/, API description: /api/v1/openapi.json)`,
    );
  });
  let timer: NodeJS.Timeout | undefined;
  if (config.alertIntervalS > 0) {
    timer = setInterval(() => {
      deps.alerts.evaluate().catch((e) => console.error('alert evaluation failed', e));
    }, config.alertIntervalS * 1000);
    timer.unref();
  }
  const stop = () => {
    if (timer) clearInterval(timer);
    server.close(() => {
      deps.store.close().finally(() => process.exit(0));
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
