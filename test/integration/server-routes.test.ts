/**
 * Route tests with `app.request()` (no socket): every endpoint, success and
 * failure, in the contract's error shape. SQLite store.
 */

import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApiErrorSchema,
  ENDPOINT_LIST,
  EnrollResponseSchema,
  LogBatchResponseSchema,
  ManifestSchema,
} from '../../model/contract/index.ts';
import { chartOutcomes } from '../../server/drift/performance.ts';
import { catalogueSongs, deviceOutcome, fixtureModel, makeLog } from '../../server/testing/fixtures.ts';
import { createTestServer, type TestServer } from '../../server/testing/harness.ts';

let s: TestServer;
let v1: string;
let deviceToken: string;

async function errorCode(r: Response): Promise<string> {
  const body = ApiErrorSchema.parse(await r.json());
  return body.error.code;
}

beforeAll(async () => {
  s = await createTestServer();
  const m1 = await fixtureModel({ salt: 'a' });
  v1 = await s.publish(m1);
  await s.req(`/api/v1/models/${v1}/promote`, { method: 'POST' });
  deviceToken = await s.enroll('dev-1');
});
afterAll(async () => s.close());

describe('health, openapi, metrics', () => {
  it('healthz answers ok', async () => {
    const r = await s.req('/healthz', { token: null });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ ok: true, store: 'sqlite' });
  });
  it('openapi describes every route the app has', async () => {
    const r = await s.req('/api/v1/openapi.json', { token: null });
    expect(r.status).toBe(200);
    const doc = (await r.json()) as { paths: Record<string, Record<string, unknown>> };
    const appRoutes = new Set(
      s.app.routes
        .filter((x) => x.method !== 'ALL' && !x.path.includes('*') && x.path !== '/admin')
        .map((x) => `${x.method.toLowerCase()} ${x.path.replace(/:(\w+)/g, '{$1}')}`),
    );
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`)),
    );
    expect([...appRoutes].filter((r) => !documented.has(r))).toEqual([]);
    expect([...documented].filter((r) => !appRoutes.has(r))).toEqual([]);
    expect(ENDPOINT_LIST.length).toBe(documented.size);
  });
  it('metrics needs admin and speaks Prometheus', async () => {
    expect((await s.req('/metrics', { token: null })).status).toBe(401);
    expect((await s.req('/metrics', { token: deviceToken })).status).toBe(403);
    const r = await s.req('/metrics');
    expect(r.status).toBe(200);
    const text = await r.text();
    expect(text).toContain('jukebox_logs_ingested_total');
    expect(text).toContain('jukebox_fleet_devices');
  });
  it('secure headers are set and unknown API paths are JSON 404s', async () => {
    const r = await s.req('/api/v1/nope');
    expect(r.status).toBe(404);
    expect(await errorCode(r)).toBe('not-found');
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('content-security-policy')).toContain("default-src 'self'");
  });
});

describe('every route checks its role', () => {
  it('answers 401 without a token and 403 to a device on admin routes, for each documented route', async () => {
    const fill = (path: string) =>
      path.replace('{version}', v1).replace('{path}', 'weights.bin').replace('{id}', 'dev-1');
    for (const r of ENDPOINT_LIST) {
      if (r.role === 'public') continue;
      const path = fill(r.path).replace(/^\/api\/v1/, '/api/v1');
      const noToken = await s.req(path, { method: r.method.toUpperCase(), token: null });
      expect(noToken.status, `${r.method} ${r.path}`).toBe(401);
      expect(await errorCode(noToken)).toBe('unauthorized');
      if (r.role === 'admin') {
        const asDevice = await s.req(path, { method: r.method.toUpperCase(), token: deviceToken });
        expect(asDevice.status, `${r.method} ${r.path}`).toBe(403);
      }
    }
  });
});

describe('auth and enrollment', () => {
  it('rejects missing, malformed and unknown tokens', async () => {
    expect(await errorCode(await s.req('/api/v1/models', { token: null }))).toBe('unauthorized');
    expect((await s.req('/api/v1/models', { token: 'short' })).status).toBe(401);
    expect((await s.req('/api/v1/models', { token: 'x'.repeat(43) })).status).toBe(401);
  });
  it('device tokens cannot call admin routes', async () => {
    for (const [path, method] of [
      ['/api/v1/models', 'GET'],
      ['/api/v1/admin/devices', 'GET'],
      ['/api/v1/admin/enrollment-codes', 'POST'],
      [`/api/v1/models/${v1}/promote`, 'POST'],
      [`/api/v1/drift/report?version=${v1}`, 'GET'],
      ['/api/v1/alerts', 'GET'],
      ['/api/v1/audit', 'GET'],
      ['/api/v1/overview', 'GET'],
      ['/api/v1/rollout', 'GET'],
    ] as const) {
      const r = await s.req(path, { method, token: deviceToken });
      expect(r.status, path).toBe(403);
      expect(await errorCode(r)).toBe('forbidden');
    }
  });
  it('a code enrolls once; wrong and reused codes are refused', async () => {
    const { code } = (await (
      await s.req('/api/v1/admin/enrollment-codes', { method: 'POST', json: { expiresInHours: 1 } })
    ).json()) as { code: string };
    const ok = await s.req('/api/v1/enroll', { token: null, json: { code, deviceId: 'dev-2', label: 'Ana’s laptop' } });
    expect(ok.status).toBe(201);
    const body = EnrollResponseSchema.parse(await ok.json());
    expect(body.deviceId).toBe('dev-2');
    expect(body.token.length).toBeGreaterThanOrEqual(43);
    const again = await s.req('/api/v1/enroll', { token: null, json: { code, deviceId: 'dev-3' } });
    expect(await errorCode(again)).toBe('enrollment-code-invalid');
    expect(again.status).toBe(403);
    expect(
      await errorCode(await s.req('/api/v1/enroll', { token: null, json: { code: 'AAAA-BBBB-CCCC', deviceId: 'x' } })),
    ).toBe('enrollment-code-invalid');
    expect(
      await errorCode(await s.req('/api/v1/enroll', { token: null, json: { code: 'AAAA', deviceId: 'bad id!' } })),
    ).toBe('validation-failed');
    const me = await s.req('/api/v1/devices/me', { token: body.token });
    expect(((await me.json()) as { id: string; label: string }).label).toBe('Ana’s laptop');
  });
  it('stores tokens hashed only', async () => {
    const rows = await s.deps.store.db.selectFrom('tokens').select('hash').execute();
    expect(rows.some((r) => r.hash === deviceToken)).toBe(false);
    expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.hash))).toBe(true);
  });
  it('a revoked device loses access at once', async () => {
    const t = await s.enroll('dev-revoke');
    expect((await s.req('/api/v1/assignment', { token: t })).status).toBe(200);
    const r = await s.req('/api/v1/admin/devices/dev-revoke/revoke', { method: 'POST' });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { revokedTokens: number }).revokedTokens).toBe(1);
    expect((await s.req('/api/v1/assignment', { token: t })).status).toBe(401);
    expect(await errorCode(await s.req('/api/v1/admin/devices/nobody/revoke', { method: 'POST' }))).toBe('not-found');
  });
  it('lists devices with last seen and an unsynced estimate', async () => {
    const r = await s.req('/api/v1/admin/devices');
    const { devices } = (await r.json()) as { devices: { id: string; unsyncedEstimate: number }[] };
    expect(devices.map((d) => d.id)).toContain('dev-1');
    expect(devices.every((d) => Number.isInteger(d.unsyncedEstimate))).toBe(true);
  });
  it('limits enrollment guesses per client address', async () => {
    const t = await createTestServer();
    try {
      const codes: number[] = [];
      for (let i = 0; i < 31; i++) {
        codes.push(
          (await t.req('/api/v1/enroll', { token: null, json: { code: `WRONG-${i}`, deviceId: 'guesser' } })).status,
        );
      }
      expect(codes.slice(0, 30).every((c) => c === 403)).toBe(true);
      expect(codes[30]).toBe(429);
    } finally {
      await t.close();
    }
  });
  it('rate-limits per token', async () => {
    const t = await createTestServer({ config: { rateLimitPerMinute: 3 } });
    try {
      const codes = [];
      for (let i = 0; i < 5; i++) codes.push((await t.req('/api/v1/models')).status);
      expect(codes).toEqual([200, 200, 200, 429, 429]);
      const r = await t.req('/api/v1/models');
      expect(await errorCode(r)).toBe('rate-limited');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await t.close();
    }
  });
});

describe('logs', () => {
  const songs = catalogueSongs().slice(0, 20);
  it('stores a batch, and a retry is stored once and reported as duplicates', async () => {
    const logs = songs.map((x) => makeLog(x, { deviceId: 'dev-1', modelVersion: v1 }));
    const r1 = await s.req('/api/v1/logs', { token: deviceToken, json: { logs } });
    expect(r1.status).toBe(200);
    const b1 = LogBatchResponseSchema.parse(await r1.json());
    expect(b1.stored.length).toBe(20);
    expect(b1.duplicates).toEqual([]);
    const r2 = await s.req('/api/v1/logs', {
      token: deviceToken,
      json: { logs: [...logs.slice(0, 5), makeLog(songs[0]!, { deviceId: 'dev-1', modelVersion: v1 })] },
    });
    const b2 = LogBatchResponseSchema.parse(await r2.json());
    expect(b2.stored.length).toBe(6);
    expect(b2.duplicates.sort()).toEqual(
      logs
        .slice(0, 5)
        .map((l) => l.id)
        .sort(),
    );
    const n = await s.deps.store.db
      .selectFrom('logs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(n.n)).toBe(21);
  });
  it('keeps event time and arrival time; accepts late, out-of-order logs', async () => {
    const old = makeLog(songs[3]!, { deviceId: 'dev-1', modelVersion: v1, createdAt: '2026-01-02T23:30:00-05:00' });
    const r = await s.req('/api/v1/logs', { token: deviceToken, json: { logs: [old] } });
    expect(r.status).toBe(200);
    const row = await s.deps.store.db.selectFrom('logs').selectAll().where('id', '=', old.id).executeTakeFirstOrThrow();
    expect(row.created_at).toBe('2026-01-02T23:30:00-05:00');
    expect(row.day).toBe('2026-01-03');
    expect(Date.parse(row.received_at)).toBeGreaterThan(Date.parse('2026-11-01'));
  });
  it('rejects the whole batch with per-item codes when one item is bad', async () => {
    const good = makeLog(songs[0]!, { deviceId: 'dev-1', modelVersion: v1 });
    const bad = {
      ...makeLog(songs[1]!, { deviceId: 'dev-1', modelVersion: v1 }),
      inputs: { ...songs[1]!.features, danceability: 1.5 },
    };
    const r = await s.req('/api/v1/logs', { token: deviceToken, json: { logs: [good, bad] } });
    expect(r.status).toBe(422);
    const body = (await r.json()) as {
      error: { code: string; details: { items: { index: number; id: string; code: string }[] } };
    };
    expect(body.error.code).toBe('validation-failed');
    expect(body.error.details.items).toEqual([
      expect.objectContaining({ index: 1, id: bad.id, code: 'feature-out-of-range' }),
    ]);
    const stored = await s.deps.store.db.selectFrom('logs').select('id').where('id', 'in', [good.id, bad.id]).execute();
    expect(stored).toEqual([]);
  });
  it('gives malformed JSON, NaN, wrong types, huge bodies, wrong media type and unknown versions their own codes', async () => {
    const post = (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
      s.req('/api/v1/logs', { method: 'POST', token: deviceToken, body, headers });
    const r1 = await post('{"logs": [');
    expect([r1.status, await errorCode(r1)]).toEqual([400, 'invalid-json']);
    const r2 = await post('{"logs": [{"latencyMs": NaN}]}');
    expect([r2.status, await errorCode(r2)]).toEqual([400, 'invalid-value']);
    const r3 = await post('{"logs": "nope"}');
    expect([r3.status, await errorCode(r3)]).toEqual([422, 'validation-failed']);
    const inf = JSON.stringify({ logs: [makeLog(songs[0]!, { deviceId: 'dev-1', modelVersion: v1 })] }).replace(
      '"latencyMs":0.7',
      '"latencyMs":1e999',
    );
    const r4 = await post(inf);
    expect([r4.status, await errorCode(r4)]).toEqual([422, 'validation-failed']);
    const r5 = await post('x'.repeat(5 * 1024 * 1024));
    expect([r5.status, await errorCode(r5)]).toEqual([413, 'body-too-large']);
    const r6 = await post('{}', { 'content-type': 'text/plain' });
    expect([r6.status, await errorCode(r6)]).toEqual([415, 'unsupported-media-type']);
    const r7 = await s.req('/api/v1/logs', {
      token: deviceToken,
      json: { logs: [makeLog(songs[0]!, { deviceId: 'dev-1', modelVersion: 'v000000000000' })] },
    });
    expect([r7.status, await errorCode(r7)]).toEqual([422, 'unknown-model-version']);
  });
  it('a device cannot send another device’s logs', async () => {
    const r = await s.req('/api/v1/logs', {
      token: deviceToken,
      json: { logs: [makeLog(songs[0]!, { deviceId: 'dev-2', modelVersion: v1 })] },
    });
    expect([r.status, await errorCode(r)]).toEqual([403, 'forbidden']);
  });
});

describe('outcomes', () => {
  it('stores device outcomes idempotently and refuses another device’s', async () => {
    const o = deviceOutcome({ id: uuidv7(), songId: 'song-1', country: 'DE', date: '2026-11-20' });
    const r1 = await s.req('/api/v1/outcomes', { token: deviceToken, json: { outcomes: [o, o] } });
    expect(r1.status).toBe(200);
    expect(await r1.json()).toEqual({ stored: [o.id], duplicates: [] });
    const r2 = await s.req('/api/v1/outcomes', { token: deviceToken, json: { outcomes: [o] } });
    expect(await r2.json()).toEqual({ stored: [o.id], duplicates: [o.id] });
    const r3 = await s.req('/api/v1/outcomes', {
      token: deviceToken,
      json: { outcomes: [{ ...o, id: uuidv7(), deviceId: 'dev-2' }] },
    });
    expect(await errorCode(r3)).toBe('forbidden');
    const r4 = await s.req('/api/v1/outcomes', { token: deviceToken, json: { outcomes: [{ ...o, country: 'XX' }] } });
    const b4 = (await r4.json()) as { error: { details: { items: { code: string }[] } } };
    expect(b4.error.details.items[0]?.code).toBe('unknown-country');
  });
  it('turns a chart CSV into outcomes for every (song, country) it covers', async () => {
    const csv =
      'spotify_id,daily_rank,country,snapshot_date\nA,1,DE,2026-11-18\nB,2,DE,2026-11-18\nA,1,FR,2026-11-19\nC,3,,2026-11-19\n';
    const r = await s.req('/api/v1/outcomes/chart-csv', {
      method: 'POST',
      body: csv,
      headers: { 'content-type': 'text/csv' },
    });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ outcomes: 6, stored: 6, songs: 3, countries: 2, date: '2026-11-19' });
    // Stored as the chart; the six outcomes (three of them "did not chart") are derived when read.
    const rows = [];
    for await (const o of chartOutcomes(s.deps.store)) rows.push(o);
    expect(rows).toHaveLength(6);
    const charted = rows
      .filter((x) => x.charted)
      .map((x) => `${x.songId}${x.country}`)
      .sort();
    expect(charted).toEqual(['ADE', 'AFR', 'BDE']);
    expect(await s.deps.store.db.selectFrom('chart_songs').select('song_id').execute()).toHaveLength(3);
    const again = await s.req('/api/v1/outcomes/chart-csv', {
      method: 'POST',
      body: csv,
      headers: { 'content-type': 'text/csv' },
    });
    expect(((await again.json()) as { stored: number }).stored).toBe(0);
    const bad = await s.req('/api/v1/outcomes/chart-csv', {
      method: 'POST',
      body: 'a,b\n1,2\n',
      headers: { 'content-type': 'text/csv' },
    });
    expect(await errorCode(bad)).toBe('csv-missing-column');
    const json = await s.req('/api/v1/outcomes/chart-csv', { method: 'POST', json: {} });
    expect(await errorCode(json)).toBe('unsupported-media-type');
  });
});

describe('registry and rollout', () => {
  it('publishes a candidate, refusing bad hashes, schema and non-content versions', async () => {
    const m2 = await fixtureModel({ salt: 'b', parent: v1 });
    const files = {
      'model.json': Buffer.from(m2.files['model.json']!).toString('base64'),
      'weights.bin': Buffer.from(m2.files['weights.bin']!).toString('base64'),
    };
    const tampered = { ...files, 'weights.bin': Buffer.from(new Uint8Array(64)).toString('base64') };
    expect(await errorCode(await s.req('/api/v1/models', { json: { manifest: m2.manifest, files: tampered } }))).toBe(
      'hash-mismatch',
    );
    expect(
      await errorCode(
        await s.req('/api/v1/models', {
          json: { manifest: m2.manifest, files: { 'model.json': files['model.json'] } },
        }),
      ),
    ).toBe('hash-mismatch');
    expect(
      await errorCode(
        await s.req('/api/v1/models', { json: { manifest: { ...m2.manifest, schemaVersion: 2 }, files } }),
      ),
    ).toBe('manifest-invalid');
    const wrongVersion = await s.req('/api/v1/models', {
      json: { manifest: { ...m2.manifest, version: 'v111111111111' }, files },
    });
    expect([wrongVersion.status, await errorCode(wrongVersion)]).toEqual([422, 'manifest-invalid']);
    const ok = await s.req('/api/v1/models', { json: { manifest: m2.manifest, files } });
    expect(ok.status).toBe(201);
    const again = await s.req('/api/v1/models', { json: { manifest: m2.manifest, files } });
    expect(again.status).toBe(200);
    const detail = (await (await s.req(`/api/v1/models/${m2.manifest.version}`)).json()) as { stage: string };
    expect(detail.stage).toBe('candidate');
  });
  it('serves manifest and files immutably with sha256 ETags', async () => {
    const r = await s.req(`/api/v1/models/${v1}/manifest.json`, { token: deviceToken });
    expect(r.status).toBe(200);
    expect(ManifestSchema.parse(await r.json()).version).toBe(v1);
    expect(r.headers.get('cache-control')).toContain('immutable');
    const f = await s.req(`/api/v1/models/${v1}/files/weights.bin`, { token: deviceToken });
    const m = ManifestSchema.parse(await (await s.req(`/api/v1/models/${v1}/manifest.json`)).json());
    const sha = m.files.find((x) => x.path === 'weights.bin')!.sha256;
    expect(f.headers.get('etag')).toBe(`"${sha}"`);
    expect((await f.arrayBuffer()).byteLength).toBe(64);
    const cached = await s.req(`/api/v1/models/${v1}/files/weights.bin`, {
      token: deviceToken,
      headers: { 'if-none-match': `"${sha}"` },
    });
    expect(cached.status).toBe(304);
    expect(await errorCode(await s.req(`/api/v1/models/${v1}/files/nope.bin`, { token: deviceToken }))).toBe(
      'not-found',
    );
    expect(await errorCode(await s.req('/api/v1/models/v999999999999/manifest.json', { token: deviceToken }))).toBe(
      'unknown-model-version',
    );
  });
  it('canary, assignment with control group, shadow, promote and rollback, all audited', async () => {
    const m3 = await fixtureModel({ salt: 'c', parent: v1 });
    const v3 = await s.publish(m3);
    expect(await errorCode(await s.req(`/api/v1/models/${v3}/canary`, { json: { percent: 80 } }))).toBe(
      'validation-failed',
    );
    const c = await s.req(`/api/v1/models/${v3}/canary`, { json: { percent: 30 } });
    expect(c.status).toBe(200);
    expect(await c.json()).toMatchObject({ production: v1, canary: v3, canaryPercent: 30 });
    const cohorts = { canary: 0, control: 0, production: 0 };
    for (let i = 0; i < 400; i++) {
      const a = (await (await s.req(`/api/v1/assignment?deviceId=d${i}`)).json()) as {
        cohort: keyof typeof cohorts;
        active: string;
      };
      cohorts[a.cohort]++;
      expect(a.active).toBe(a.cohort === 'canary' ? v3 : v1);
    }
    expect(cohorts.canary).toBeGreaterThan(80);
    expect(cohorts.canary).toBeLessThan(160);
    expect(Math.abs(cohorts.canary - cohorts.control)).toBeLessThan(50);
    // A device's cohort is stable.
    const a1 = await (await s.req('/api/v1/assignment', { token: deviceToken })).json();
    const a2 = await (await s.req('/api/v1/assignment', { token: deviceToken })).json();
    expect((a1 as { cohort: string }).cohort).toBe((a2 as { cohort: string }).cohort);
    expect(await errorCode(await s.req('/api/v1/assignment'))).toBe('invalid-value');

    const m4 = await fixtureModel({ salt: 'd' });
    const v4 = await s.publish(m4);
    const sh = await s.req('/api/v1/rollout/shadow', { method: 'PUT', json: { version: v4 } });
    expect(((await sh.json()) as { shadow: string }).shadow).toBe(v4);
    expect(
      ((await (await s.req('/api/v1/assignment', { token: deviceToken })).json()) as { shadow: string }).shadow,
    ).toBe(v4);
    expect(await errorCode(await s.req('/api/v1/rollout/shadow', { method: 'PUT', json: { version: v1 } }))).toBe(
      'conflict',
    );

    // Rollback with a canary ends the canary.
    const rb1 = await s.req('/api/v1/rollout/rollback', { method: 'POST' });
    expect(await rb1.json()).toMatchObject({ production: v1, canary: null, canaryPercent: 0 });
    const p = await s.req(`/api/v1/models/${v3}/promote`, { method: 'POST' });
    expect(await p.json()).toMatchObject({ production: v3 });
    expect(await errorCode(await s.req(`/api/v1/models/${v3}/promote`, { method: 'POST' }))).toBe('conflict');
    expect(await errorCode(await s.req(`/api/v1/models/${v3}/archive`, { method: 'POST' }))).toBe('conflict');
    const rb2 = await s.req('/api/v1/rollout/rollback', { method: 'POST' });
    expect(await rb2.json()).toMatchObject({ production: v1 });
    const ar = await s.req(`/api/v1/models/${v4}/archive`, { method: 'POST' });
    expect(((await ar.json()) as { shadow: string | null }).shadow).toBeNull();
    const audit = (await (await s.req('/api/v1/audit')).json()) as { entries: { action: string; actor: string }[] };
    expect(audit.entries.map((e) => e.action)).toEqual(
      expect.arrayContaining(['publish', 'canary', 'shadow', 'rollback-canary', 'promote', 'rollback', 'archive']),
    );
    expect(audit.entries.every((e) => e.actor.length > 0)).toBe(true);
    const rollout = (await (await s.req('/api/v1/rollout')).json()) as { production: string; audit: unknown[] };
    expect(rollout.production).toBe(v1);
    const list = (await (await s.req('/api/v1/models')).json()) as { models: { version: string; stage: string }[] };
    expect(list.models.find((x) => x.version === v3)?.stage).toBe('archived');
    expect(await errorCode(await s.req('/api/v1/models/v999999999999/promote', { method: 'POST' }))).toBe(
      'unknown-model-version',
    );
  });
});

describe('catalogue', () => {
  it('replaces from CSV, serves gzip JSON with an ETag, 304 on match', async () => {
    const csv =
      'spotify_id,name,artists,is_explicit,duration_ms,danceability,energy,key,loudness,mode,speechiness,acousticness,instrumentalness,liveness,valence,tempo\n' +
      's1,"Song, One",A,TRUE,200000,0.5,0.5,1,-5,1,0.1,0.1,0,0.1,0.5,120\n' +
      's2,Two,B,false,180000,1.5,0.5,1,-5,1,0.1,0.1,0,0.1,0.5,120\n';
    const up = await s.req('/api/v1/catalogue', { method: 'PUT', body: csv, headers: { 'content-type': 'text/csv' } });
    expect(up.status).toBe(200);
    expect(await up.json()).toMatchObject({ songs: 1, rejected: 1 });
    const r = await s.req('/api/v1/catalogue', { token: deviceToken, headers: { 'accept-encoding': 'gzip' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-encoding')).toBe('gzip');
    const body = (await new Response(r.body!.pipeThrough(new DecompressionStream('gzip'))).json()) as {
      version: string;
      songs: { id: string; name: string }[];
    };
    expect(body.songs).toEqual([expect.objectContaining({ id: 's1', name: 'Song, One' })]);
    const etag = r.headers.get('etag')!;
    expect(etag.replace(/^W\//, '')).toBe(`"${body.version}"`);
    expect((await s.req('/api/v1/catalogue', { token: deviceToken, headers: { 'if-none-match': etag } })).status).toBe(
      304,
    );
    expect(
      await errorCode(
        await s.req('/api/v1/catalogue', {
          method: 'PUT',
          body: csv,
          headers: { 'content-type': 'text/csv' },
          token: deviceToken,
        }),
      ),
    ).toBe('forbidden');
    expect(
      await errorCode(
        await s.req('/api/v1/catalogue', { method: 'PUT', body: 'id,name\n', headers: { 'content-type': 'text/csv' } }),
      ),
    ).toBe('csv-missing-column');
  });
});

describe('shadow comparison', () => {
  it('merges shadow results per active and shadow version and day', async () => {
    const songs = catalogueSongs().slice(100, 140);
    const day = '2026-04-04T08:00:00Z';
    const logs = songs.map((x, i) => {
      const l = makeLog(x, { deviceId: 'dev-1', modelVersion: v1, createdAt: day });
      // Half agree exactly; half have a shadow whose top-1 is the active model's lowest country
      // (halved elsewhere so that the 1.0 is the shadow's unique maximum even where the fake saturates).
      const lowest = l.outputs.indexOf(Math.min(...l.outputs));
      const outputs = i % 2 === 0 ? l.outputs : l.outputs.map((p, c) => (c === lowest ? 1 : p / 2));
      return { ...l, shadow: { modelVersion: 'vshadow000001', outputs, latencyMs: 2 } };
    });
    expect((await s.req('/api/v1/logs', { token: deviceToken, json: { logs } })).status).toBe(200);
    const r = await s.req(`/api/v1/shadow?version=${v1}&from=2026-04-04&to=2026-04-04`);
    expect(r.status).toBe(200);
    const body = (await r.json()) as {
      shadows: {
        shadow: string;
        summary: { n: number; top1Agreement: number; top1InActiveTop5: number; meanShadowLatencyMs: number };
      }[];
    };
    expect(body.shadows).toHaveLength(1);
    expect(body.shadows[0]?.shadow).toBe('vshadow000001');
    expect(body.shadows[0]?.summary).toMatchObject({
      n: 40,
      top1Agreement: 0.5,
      top1InActiveTop5: 0.5,
      meanShadowLatencyMs: 2,
    });
    expect(await errorCode(await s.req('/api/v1/shadow'))).toBe('validation-failed');
  });
});

describe('monitoring routes', () => {
  it('drift report, timeseries, performance, alerts, overview answer for a known version and refuse bad queries', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const rep = await s.req(`/api/v1/drift/report?version=${v1}&to=${today}`);
    expect(rep.status).toBe(200);
    const body = (await rep.json()) as { rows: number; features: unknown[]; countingRule: string };
    expect(body.rows).toBeGreaterThan(0);
    expect(body.features).toHaveLength(13);
    expect(body.countingRule).toContain('once per');
    expect((await s.req(`/api/v1/drift/timeseries?version=${v1}&granularity=week`)).status).toBe(200);
    expect((await s.req(`/api/v1/performance?version=${v1}`)).status).toBe(200);
    expect(await errorCode(await s.req('/api/v1/drift/report?version=v999999999999'))).toBe('unknown-model-version');
    expect(await errorCode(await s.req(`/api/v1/drift/report?version=${v1}&from=yesterday`))).toBe('validation-failed');
    expect(await errorCode(await s.req(`/api/v1/drift/report?version=${v1}&from=2026-02-01&to=2026-01-01`))).toBe(
      'invalid-value',
    );
    expect((await s.req('/api/v1/alerts/evaluate', { method: 'POST' })).status).toBe(200);
    expect((await s.req('/api/v1/alerts?open=true')).status).toBe(200);
    const ov = (await (await s.req('/api/v1/overview')).json()) as {
      devices: number;
      logsPerVersion: Record<string, { rows: number }>;
    };
    expect(ov.devices).toBeGreaterThan(0);
    expect(ov.logsPerVersion[v1]?.rows).toBeGreaterThan(0);
  });
});
