/**
 * Two server processes on one PostgreSQL (TEST_DATABASE_URL; `.ci/postgres.sh` starts one), as a label runs them
 * behind a load balancer: the same batches replayed to both at once are stored once; alert evaluation runs once
 * per interval across both; one retraining job at a time across both; a device revoked on one instance is refused
 * by the other within the token cache time.
 */
import { readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomToken } from '../../server/auth/tokens.ts';
import { catalogueSongs, fixtureModel, makeLog } from '../../server/testing/fixtures.ts';
import { type SpawnedServer, spawnServer } from '../../server/testing/spawn-server.ts';

const PG = process.env.TEST_DATABASE_URL;
if (!PG) {
  console.warn(
    'server-instances: TEST_DATABASE_URL is not set, so the two-instance PostgreSQL tests are SKIPPED. Run `source .ci/postgres.sh && start_test_postgres` first to include them.',
  );
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

const TOKEN_CACHE_MS = 1000;
const ALERT_INTERVAL_S = 1;

describe.skipIf(!PG)('two instances on one PostgreSQL', () => {
  const dbName = `jukebox_two_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  let dbUrl: string;
  let a: SpawnedServer;
  let b: SpawnedServer;
  let version: string;
  let db: pg.Client;
  const adminToken = randomToken();
  const jobFile = join(tmpdir(), `jukebox-two-jobs-${process.pid}.txt`);
  const admin = { authorization: `Bearer ${adminToken}` };

  beforeAll(async () => {
    rmSync(jobFile, { force: true });
    const c = new pg.Client({ connectionString: PG });
    await c.connect();
    await c.query(`CREATE DATABASE ${dbName}`);
    await c.end();
    const u = new URL(PG as string);
    u.pathname = `/${dbName}`;
    dbUrl = u.toString();
    const model = await fixtureModel({ salt: 'two' });
    version = model.manifest.version;
    const env = {
      DATABASE_URL: dbUrl,
      ADMIN_TOKEN: adminToken,
      ALERT_INTERVAL_S: String(ALERT_INTERVAL_S),
      TOKEN_CACHE_MS: String(TOKEN_CACHE_MS),
      RETRAIN_COMMAND: `echo "$JUKEBOX_SERVER" >> ${jobFile}; sleep 2`,
    };
    a = await spawnServer({ port: await freePort(), model, env });
    b = await spawnServer({ port: await freePort(), model, env });
    db = new pg.Client({ connectionString: dbUrl });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await Promise.all([a?.stop(), b?.stop()]);
    const c = new pg.Client({ connectionString: PG });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await c.end();
    rmSync(jobFile, { force: true });
  });

  async function enroll(on: SpawnedServer, deviceId: string): Promise<string> {
    const code = (await (
      await fetch(`${on.url}/api/v1/admin/enrollment-codes`, { method: 'POST', headers: admin })
    ).json()) as { code: string };
    const r = await fetch(`${on.url}/api/v1/enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: code.code, deviceId }),
    });
    expect(r.status).toBe(201);
    return ((await r.json()) as { token: string }).token;
  }

  it('stores each log once when the same batches reach both instances at the same time', async () => {
    const token = await enroll(a, 'dev-both');
    const songs = catalogueSongs().slice(0, 300);
    const batches = Array.from({ length: 6 }, (_, i) =>
      songs.slice(i * 50, i * 50 + 50).map((s) => makeLog(s, { deviceId: 'dev-both', modelVersion: version })),
    );
    const post = (on: SpawnedServer, logs: unknown) =>
      fetch(`${on.url}/api/v1/logs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ logs }),
      });
    const answers = await Promise.all(batches.flatMap((l) => [post(a, l), post(b, l), post(a, l), post(b, l)]));
    expect(answers.map((r) => r.status)).toEqual(answers.map(() => 200));
    const bodies = (await Promise.all(answers.map((r) => r.json()))) as { stored: string[]; duplicates: string[] }[];
    const fresh = bodies.reduce((n, x) => n + x.stored.length - x.duplicates.length, 0);
    expect(fresh).toBe(300);
    const n = await db.query<{ n: string }>("SELECT count(*) AS n FROM logs WHERE device_id = 'dev-both'");
    expect(Number(n.rows[0]?.n)).toBe(300);
    const dev = await db.query<{ logs_total: number }>("SELECT logs_total FROM devices WHERE id = 'dev-both'");
    expect(Number(dev.rows[0]?.logs_total)).toBe(300);
  });

  it('evaluates alerts once per interval across both instances', async () => {
    const runs = async () => {
      let total = 0;
      for (const s of [a, b]) {
        const text = await (await fetch(`${s.url}/metrics`, { headers: admin })).text();
        const m = /jukebox_scheduled_runs_total\{task="alert-evaluation"\} (\d+)/.exec(text);
        total += m ? Number(m[1]) : 0;
      }
      return total;
    };
    const t0 = Date.now();
    const before = await runs();
    await new Promise((r) => setTimeout(r, 6000));
    const after = await runs();
    const elapsedSlots = (Date.now() - t0) / (ALERT_INTERVAL_S * 1000);
    // Each instance fires twice per interval; without the store's claim that would be ~4 runs per slot.
    expect(after - before).toBeGreaterThanOrEqual(Math.floor(elapsedSlots) - 2);
    expect(after - before).toBeLessThanOrEqual(Math.ceil(elapsedSlots) + 1);
    const claims = await db.query<{ n: string; dup: string }>(
      "SELECT count(*) AS n, count(*) - count(DISTINCT slot) AS dup FROM scheduler_runs WHERE name = 'alert-evaluation'",
    );
    expect(Number(claims.rows[0]?.dup)).toBe(0);
  });

  it('runs one retraining job at a time across both instances', async () => {
    const start = (s: SpawnedServer) =>
      fetch(`${s.url}/api/v1/jobs`, {
        method: 'POST',
        headers: { ...admin, 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'two instances' }),
      });
    const answers = await Promise.all([start(a), start(b), start(a), start(b)]);
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([202, 409, 409, 409]);
    const job = (await (answers.find((r) => r.status === 202) as Response).json()) as { id: string };
    const deadline = Date.now() + 30_000;
    for (;;) {
      const j = (await (await fetch(`${b.url}/api/v1/jobs/${job.id}`, { headers: admin })).json()) as {
        status: string;
      };
      if (j.status === 'succeeded' || j.status === 'failed') {
        expect(j.status).toBe('succeeded');
        break;
      }
      if (Date.now() > deadline) throw new Error(`job still ${j.status}`);
      await new Promise((r) => setTimeout(r, 300));
    }
    // The command ran once, on one instance.
    expect(readFileSync(jobFile, 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('a device revoked on one instance is refused by the other within the token cache time', async () => {
    const token = await enroll(a, 'dev-revoke-two');
    const me = () => fetch(`${b.url}/api/v1/devices/me`, { headers: { authorization: `Bearer ${token}` } });
    expect((await me()).status).toBe(200); // now cached on b
    const revokedAt = Date.now();
    expect(
      (await fetch(`${a.url}/api/v1/admin/devices/dev-revoke-two/revoke`, { method: 'POST', headers: admin })).status,
    ).toBe(200);
    let refusedAfter = Number.POSITIVE_INFINITY;
    while (Date.now() - revokedAt < TOKEN_CACHE_MS + 3000) {
      if ((await me()).status === 401) {
        refusedAfter = Date.now() - revokedAt;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(refusedAfter).toBeLessThanOrEqual(TOKEN_CACHE_MS + 500);
  });
});
