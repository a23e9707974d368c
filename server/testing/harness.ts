/**
 * A server for tests: fresh store (SQLite in a temp dir, or a throwaway
 * PostgreSQL database created on TEST_DATABASE_URL's server), the app, an
 * admin token, and helpers to enroll devices and publish fixture models.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hono } from 'hono';
import pg from 'pg';
import { type ApiClient, apiClient, bearer } from '../../model/client/api-client.ts';
import { ENDPOINTS } from '../../model/contract/index.ts';
import type { WebhookSender } from '../alerts/alert-service.ts';
import { createApp } from '../app.ts';
import { type Config, loadConfig } from '../config.ts';
import type { Deps } from '../deps.ts';
import { createServices } from '../services.ts';
import { checkResponse } from './contract-check.ts';
import { type FixtureModel, fixtureModel, publishBody } from './fixtures.ts';

export interface TestServer {
  app: Hono;
  deps: Deps;
  adminToken: string;
  /** Authorised request helper: JSON bodies are serialised. */
  req(
    path: string,
    init?: { method?: string; token?: string | null; json?: unknown; body?: string; headers?: Record<string, string> },
  ): Promise<Response>;
  /**
   * The contract's API client against this app (every answer also checked like `req`'s); the admin token
   * unless `token` says otherwise (null: none).
   */
  api(token?: string | null): ApiClient;
  enroll(deviceId: string): Promise<string>;
  publish(m: FixtureModel): Promise<string>;
  close(): Promise<void>;
}

/** Creates a private database on the server of `url` and returns its URL and a dropper. */
async function freshPostgres(url: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `jukebox_t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(url);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export async function createTestServer(
  opts: { postgresUrl?: string; config?: Partial<Config>; webhookSender?: WebhookSender } = {},
): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'jukebox-server-test-'));
  let dropDb: (() => Promise<void>) | undefined;
  let databaseUrl: string | undefined;
  if (opts.postgresUrl) {
    const db = await freshPostgres(opts.postgresUrl);
    databaseUrl = db.url;
    dropDb = db.drop;
  }
  const config = loadConfig(
    {},
    {
      dataDir: dir,
      ...(databaseUrl ? { databaseUrl } : {}),
      defaultModelDir: join(dir, 'no-model'),
      cataloguePath: join(dir, 'no-catalogue.csv'),
      webDist: join(dir, 'no-web'),
      alertIntervalS: 0,
      tokenCacheMs: 0,
      // Fixtures are dated on fixed days (deterministic drift days); the window of receipt has its own tests
      // (test/security/), which set it back to the product's default.
      eventWindowBackDays: 3650,
      ...opts.config,
    },
  );
  const deps = await createServices(config, {
    log: () => {},
    ...(opts.webhookSender ? { webhookSender: opts.webhookSender } : {}),
  });
  const adminToken = await deps.tokens.issue('admin', 'admin');
  const app = createApp(deps);
  const req: TestServer['req'] = async (path, init = {}) => {
    const headers: Record<string, string> = { ...init.headers };
    const token = init.token === undefined ? adminToken : init.token;
    if (token) headers.authorization = bearer(token);
    let body = init.body;
    if (init.json !== undefined) {
      body = JSON.stringify(init.json);
      headers['content-type'] ??= 'application/json';
    }
    const method = init.method ?? (body !== undefined ? 'POST' : 'GET');
    const res = await app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) });
    await checkResponse(method, path, res);
    return res;
  };
  const api: TestServer['api'] = (token) =>
    apiClient('', token === undefined ? adminToken : token, {
      fetch: async (input, init) => {
        const path = String(input);
        const res = await app.request(path, init);
        await checkResponse(init?.method ?? 'GET', path, res);
        return res;
      },
    });
  return {
    app,
    deps,
    adminToken,
    req,
    api,
    async enroll(deviceId) {
      const codeRes = await req(ENDPOINTS.createEnrollmentCode.path, { method: 'POST' });
      const code = ENDPOINTS.createEnrollmentCode.response.schema.parse(await codeRes.json());
      const r = await req(ENDPOINTS.enroll.path, { token: null, json: { code: code.code, deviceId } });
      if (r.status !== 201) throw new Error(`enroll failed: ${r.status} ${await r.text()}`);
      return ENDPOINTS.enroll.response.schema.parse(await r.json()).token;
    },
    async publish(m) {
      const r = await req(ENDPOINTS.publishModel.path, { json: publishBody(m) });
      if (r.status !== 201 && r.status !== 200) throw new Error(`publish failed: ${r.status} ${await r.text()}`);
      return ENDPOINTS.publishModel.response.schema.parse(await r.json()).version;
    },
    async close() {
      await deps.store.close();
      if (dropDb) await dropDb();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export { fixtureModel };
