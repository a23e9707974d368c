/**
 * One test per attack that got through the trust boundary (issue 12), each tried the way an attacker with one
 * enrollment code, or a careless client, would. Every test here failed on the code before the fix.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../server/config.ts';
import { DEVICE_EVENTS_PER_DEVICE } from '../../server/devices/device-event-log.ts';
import { createServices } from '../../server/services.ts';
import {
  catalogueSongs,
  deviceOutcome,
  type FixtureModel,
  fixtureModel,
  makeLog,
  publishBody,
} from '../../server/testing/fixtures.ts';
import { createTestServer, type TestServer } from '../../server/testing/harness.ts';
import { decidePinnedKey } from '../../web/src/lib/enrollment/key-pinning.ts';

type ErrorBody = { error: { code: string; details?: { items?: { code: string; index: number }[] } } };

async function code(r: Response): Promise<string> {
  return ((await r.json()) as ErrorBody).error.code;
}

async function itemCodes(r: Response): Promise<string[]> {
  const b = (await r.json()) as ErrorBody;
  return (b.error.details?.items ?? []).map((i) => i.code);
}

/** A UUIDv7 whose time field says `ms` (a device can make one for any date). */
function uuidv7At(ms: number, n: number): string {
  const hex = ms.toString(16).padStart(12, '0');
  const tail = n.toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-${tail}`;
}

async function newCode(s: TestServer, json?: unknown): Promise<Response> {
  return s.req('/api/v1/admin/enrollment-codes', json === undefined ? { method: 'POST' } : { json });
}

async function enrollWith(s: TestServer, c: string, deviceId: string, label?: string): Promise<Response> {
  return s.req('/api/v1/enroll', { token: null, json: { code: c, deviceId, ...(label ? { label } : {}) } });
}

describe('trust boundary: identities', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await createTestServer();
  });
  afterAll(async () => s?.close());

  it('a device cannot enroll as `admin` (nor revoke the admin tokens by being revoked)', async () => {
    const c = ((await (await newCode(s)).json()) as { code: string }).code;
    for (const id of ['admin', 'Admin', 'server']) {
      const r = await enrollWith(s, c, id);
      expect(r.status).toBe(422);
      const details = ((await r.json()) as { error: { details: { code: string }[] } }).error.details;
      expect(details.map((d) => d.code)).toEqual(['reserved-id']);
    }
    expect((await s.req('/api/v1/admin/devices')).status).toBe(200);
    // Namespaces: revoking a device called like the admin subject touches no admin token.
    expect(await s.deps.tokens.revokeSubject('device', 'admin')).toBe(0);
    expect((await s.req('/api/v1/admin/devices')).status).toBe(200);
    // The refused attempts did not spend the code.
    expect((await enrollWith(s, c, 'dev-after-admin')).status).toBe(201);
  });

  it('a fresh code cannot take over an enrolled device id; the real device keeps its token', async () => {
    const token = await s.enroll('dev-victim');
    const c = ((await (await newCode(s)).json()) as { code: string }).code;
    const r = await enrollWith(s, c, 'dev-victim');
    expect(r.status).toBe(409);
    expect(await code(r)).toBe('device-exists');
    expect((await s.req('/api/v1/devices/me', { token })).status).toBe(200);
    // Re-enrollment needs a code issued for that device: then the old install loses access.
    const forIt = (await (await newCode(s, { deviceId: 'dev-victim' })).json()) as { code: string; deviceId: string };
    expect(forIt.deviceId).toBe('dev-victim');
    expect((await enrollWith(s, forIt.code, 'dev-other')).status).toBe(403);
    const again = await enrollWith(s, forIt.code, 'dev-victim');
    expect(again.status).toBe(201);
    expect((await s.req('/api/v1/devices/me', { token })).status).toBe(401);
    const fresh = ((await again.json()) as { token: string }).token;
    expect((await s.req('/api/v1/devices/me', { token: fresh })).status).toBe(200);
  });

  it('a revoked device cannot enroll again until an admin restores it (audited)', async () => {
    await s.enroll('dev-revoked');
    expect((await s.req('/api/v1/admin/devices/dev-revoked/revoke', { method: 'POST' })).status).toBe(200);
    const c = ((await (await newCode(s)).json()) as { code: string }).code;
    const r = await enrollWith(s, c, 'dev-revoked');
    expect(r.status).toBe(403);
    expect(await code(r)).toBe('device-revoked');
    const forIt = await newCode(s, { deviceId: 'dev-revoked' });
    expect(forIt.status).toBe(403);
    expect((await s.req('/api/v1/admin/devices/dev-revoked/restore', { method: 'POST' })).status).toBe(200);
    const code2 = ((await (await newCode(s, { deviceId: 'dev-revoked' })).json()) as { code: string }).code;
    expect((await enrollWith(s, code2, 'dev-revoked')).status).toBe(201);
    const audit = (await (await s.req('/api/v1/audit?action=restore-device')).json()) as {
      entries: { actor: string; details: { deviceId: string } }[];
    };
    expect(audit.entries.map((e) => [e.actor, e.details.deviceId])).toEqual([['admin', 'dev-revoked']]);
  });
});

describe('trust boundary: bodies and floods', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await createTestServer({ config: { trustProxy: true } });
  });
  afterAll(async () => s?.close());

  it('an oversized unauthenticated body is cut off at the limit while it is read (no length given)', async () => {
    let pulled = 0;
    const chunk = new Uint8Array(64 * 1024).fill(32);
    const total = 48 * 1024 * 1024;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= total) return controller.close();
        pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const r = await s.app.request('/api/v1/enroll', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(r.status).toBe(413);
    expect(await code(r)).toBe('body-too-large');
    // The server stopped reading near the 64 KiB limit, far from the 48 MB offered.
    expect(pulled).toBeLessThan(1024 * 1024);
  });

  it('a declared oversized body gets 413 on admin JSON routes too, before anything reads it', async () => {
    const big = JSON.stringify({ autoOnAlert: true, pad: 'x'.repeat(200_000) });
    for (const [path, method] of [
      ['/api/v1/settings/retrain', 'PUT'],
      ['/api/v1/admin/enrollment-codes', 'POST'],
      ['/api/v1/rollout/shadow', 'PUT'],
    ] as const) {
      const r = await s.req(path, { method, body: big, headers: { 'content-type': 'application/json' } });
      expect(r.status, path).toBe(413);
    }
  });

  it('a failed-token flood from one address is limited before the store is asked; other addresses are not', async () => {
    const lookup = vi.spyOn(s.deps.tokens, 'lookup');
    const statuses: number[] = [];
    for (let i = 0; i < 200; i++) {
      const r = await s.req('/api/v1/devices/me', {
        token: `guess${String(i).padStart(40, '0')}`,
        headers: { 'x-forwarded-for': '203.0.113.7' },
      });
      statuses.push(r.status);
    }
    expect(statuses.filter((x) => x === 401).length).toBe(s.deps.config.authFailuresPerMinute);
    expect(statuses.filter((x) => x === 429).length).toBe(200 - s.deps.config.authFailuresPerMinute);
    expect(lookup.mock.calls.length).toBeLessThanOrEqual(s.deps.config.authFailuresPerMinute);
    const other = await s.req('/api/v1/devices/me', {
      token: `guess${'1'.repeat(40)}`,
      headers: { 'x-forwarded-for': '198.51.100.9' },
    });
    expect(other.status).toBe(401);
    lookup.mockRestore();
  });

  it('deeply nested JSON is refused with 400, not a 500', async () => {
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const r = await s.req('/api/v1/settings/retrain', {
      method: 'PUT',
      body: `{"autoOnAlert":${deep}}`,
      headers: { 'content-type': 'application/json' },
    });
    expect(r.status).toBe(400);
    expect(await code(r)).toBe('json-too-deep');
  });
});

describe('trust boundary: audit and garbage', () => {
  let s: TestServer;
  let model: FixtureModel;
  let version: string;
  let token: string;
  beforeAll(async () => {
    // The product's own window of receipt (the harness widens it for fixtures dated on fixed days).
    s = await createTestServer({ config: { eventWindowBackDays: 90, eventWindowAheadDays: 1 } });
    model = await fixtureModel({ salt: 'sec' });
    version = await s.publish(model);
    token = await s.enroll('dev-garbage');
  });
  afterAll(async () => s?.close());

  it('future-dated device events cannot push governance entries out of the audit or rollout views', async () => {
    const future = Date.parse('2099-01-01T00:00:00Z');
    const events = Array.from({ length: 100 }, (_, i) => ({
      id: uuidv7At(future + i, i),
      kind: 'model-refused',
      version,
      code: 'hash-mismatch',
      at: '2099-01-01T00:00:00Z',
    }));
    expect((await s.req('/api/v1/devices/me/events', { token, json: { events } })).status).toBe(200);
    const other = await fixtureModel({ salt: 'sec2' });
    const v2 = await s.publish(other);
    expect((await s.req(`/api/v1/models/${v2}/promote`, { method: 'POST' })).status).toBe(200);
    const audit = (await (await s.req('/api/v1/audit?limit=5')).json()) as { entries: { action: string }[] };
    expect(audit.entries.map((e) => e.action)).toContain('promote');
    expect(audit.entries.some((e) => e.action.startsWith('device-model'))).toBe(false);
    const rollout = (await (await s.req('/api/v1/rollout')).json()) as { audit: { action: string }[] };
    expect(rollout.audit.slice(0, 5).map((e) => e.action)).toContain('promote');
    // The device's events are still there, in their own list, ordered by receipt.
    const list = (await (await s.req('/api/v1/admin/device-events?deviceId=dev-garbage')).json()) as {
      events: { receivedAt: string }[];
    };
    expect(list.events).toHaveLength(100);
    expect(list.events.every((e) => e.receivedAt < '2099')).toBe(true);
  });

  it('one device cannot fill the telemetry table: it keeps its newest events up to the cap', async () => {
    const flooder = await s.enroll('dev-flood');
    for (let b = 0; b < 11; b++) {
      const events = Array.from({ length: 100 }, (_, i) => ({
        id: uuidv7At(Date.parse('2026-12-01T00:00:00Z') + b * 100 + i, b * 100 + i),
        kind: 'drift-warning',
        version,
        at: new Date().toISOString(),
      }));
      expect((await s.req('/api/v1/devices/me/events', { token: flooder, json: { events } })).status).toBe(200);
    }
    const rows = await s.deps.store.db
      .selectFrom('device_events')
      .select('event_id')
      .where('device_id', '=', 'dev-flood')
      .execute();
    expect(rows).toHaveLength(DEVICE_EVENTS_PER_DEVICE);
    // The oldest went first; other devices' events are untouched.
    expect(rows.map((r) => r.event_id)).not.toContain(uuidv7At(Date.parse('2026-12-01T00:00:00Z'), 0));
    const others = await s.deps.store.db
      .selectFrom('device_events')
      .select('id')
      .where('device_id', '=', 'dev-garbage')
      .execute();
    expect(others).toHaveLength(100);
  });

  async function postLogs(logs: unknown[]): Promise<Response> {
    return s.req('/api/v1/logs', { token, json: { logs } });
  }
  const song = () => catalogueSongs()[3] as Parameters<typeof makeLog>[0];

  it.each([
    ['year 0000', { createdAt: '0000-01-01T00:00:00Z' }, 'event-time-out-of-window'],
    ['year 9999', { createdAt: '9999-12-31T23:59:59Z' }, 'event-time-out-of-window'],
    [
      'a year before receipt',
      { createdAt: new Date(Date.now() - 365 * 86_400_000).toISOString() },
      'event-time-out-of-window',
    ],
    [
      'a week ahead of receipt',
      { createdAt: new Date(Date.now() + 7 * 86_400_000).toISOString() },
      'event-time-out-of-window',
    ],
    ['latencyMs 1e300', { latencyMs: 1e300 }, 'number-out-of-range'],
    ['a NUL byte in songId', { songId: 'abc\u0000def' }, 'invalid-text'],
    ['a lone surrogate in songId', { songId: 'abc\ud800' }, 'invalid-text'],
  ])('a log with %s is refused with a per-item code and nothing is stored', async (_name, patch, expected) => {
    const good = makeLog(song(), { deviceId: 'dev-garbage', modelVersion: version });
    const bad = { ...makeLog(song(), { deviceId: 'dev-garbage', modelVersion: version }), ...patch };
    const r = await postLogs([good, bad]);
    expect(r.status).toBe(422);
    expect(await itemCodes(r)).toEqual([expected]);
    const n = await s.deps.store.db.selectFrom('logs').select('id').where('id', 'in', [good.id, bad.id]).execute();
    expect(n).toHaveLength(0);
    const me = (await (await s.req('/api/v1/devices/me', { token })).json()) as { lastPredictionAt: string | null };
    expect(me.lastPredictionAt === null || me.lastPredictionAt < '2100').toBe(true);
  });

  it('outcomes with NUL bytes or a far-future date are refused', async () => {
    const base = deviceOutcome({
      id: '0190a2b3-0000-7000-8000-00000000abcd',
      songId: 'song1',
      country: 'US',
      date: '2026-11-01',
    });
    const nul = await s.req('/api/v1/outcomes', {
      token,
      json: { outcomes: [{ ...base, song: { songId: 'a\u0000' } }] },
    });
    expect(nul.status).toBe(422);
    expect(await itemCodes(nul)).toEqual(['invalid-text']);
    const far = await s.req('/api/v1/outcomes', { token, json: { outcomes: [{ ...base, date: '2099-01-01' }] } });
    expect(far.status).toBe(422);
    expect(await itemCodes(far)).toEqual(['event-time-out-of-window']);
    expect(await s.deps.store.db.selectFrom('outcomes').select('id').execute()).toHaveLength(0);
  });

  it('chart CSV dates must be calendar days: 2026-02-31 is refused, 9999-99-99 never dates an outcome', async () => {
    const csv = 'spotify_id,country,snapshot_date\nsongA,US,2026-11-01\nsongB,DE,9999-99-99\n';
    const bad = await s.req('/api/v1/outcomes/chart-csv?date=2026-02-31', {
      body: csv,
      headers: { 'content-type': 'text/csv' },
    });
    expect(bad.status).toBe(400);
    expect(await code(bad)).toBe('invalid-date');
    const ok = await s.req('/api/v1/outcomes/chart-csv', { body: csv, headers: { 'content-type': 'text/csv' } });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { date: string }).date).toBe('2026-11-01');
  });

  it('an enrollment label with control characters is refused', async () => {
    const c = ((await (await newCode(s)).json()) as { code: string }).code;
    expect((await enrollWith(s, c, 'dev-label', 'lab\u0007el')).status).toBe(422);
  });

  it('a log id resent with different content is 409 id-reused; a true retry is still a duplicate', async () => {
    const log = makeLog(song(), { deviceId: 'dev-garbage', modelVersion: version });
    expect((await postLogs([log])).status).toBe(200);
    const retry = await postLogs([log]);
    expect(retry.status).toBe(200);
    expect(((await retry.json()) as { duplicates: string[] }).duplicates).toEqual([log.id]);
    const other = makeLog(song(), { deviceId: 'dev-garbage', modelVersion: version });
    const changed = { ...log, latencyMs: log.latencyMs + 1 };
    const r = await postLogs([other, changed]);
    expect(r.status).toBe(409);
    expect(await itemCodes(r)).toEqual(['id-reused']);
    // Nothing of the refused batch is stored, and the first content stands.
    expect(await s.deps.store.db.selectFrom('logs').select('id').where('id', '=', other.id).execute()).toHaveLength(0);
    const row = await s.deps.store.db
      .selectFrom('logs')
      .select('latency_ms')
      .where('id', '=', log.id)
      .executeTakeFirst();
    expect(row?.latency_ms).toBe(log.latencyMs);
  });

  it('a publish with a duplicate file entry, a file named .., or a 20k-deep field is a 4xx, never a 500', async () => {
    const m = await fixtureModel({ salt: 'dup' });
    const body = publishBody(m);
    const dupFiles = {
      ...body,
      manifest: { ...body.manifest, files: [...body.manifest.files, body.manifest.files[0]] },
    };
    const r1 = await s.req('/api/v1/models', { json: dupFiles });
    expect(r1.status).toBe(422);
    const dotdot = { ...body, files: { ...body.files, '..': 'AAAA' } };
    const r2 = await s.req('/api/v1/models', { json: dotdot });
    expect([400, 422]).toContain(r2.status);
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const text = JSON.stringify(body).replace('"codeCommit":"test"', `"codeCommit":${deep}`);
    const r3 = await s.req('/api/v1/models', { body: text, headers: { 'content-type': 'application/json' } });
    expect(r3.status).toBe(400);
    expect(await code(r3)).toBe('json-too-deep');
    expect(
      await s.deps.store.db.selectFrom('models').select('version').where('version', '=', m.manifest.version).execute(),
    ).toHaveLength(0);
  });
});

describe('trust boundary: static files, configuration, durability', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'jukebox-sec-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a missing /assets/*.js is a 404 without the immutable cache, not the app shell', async () => {
    const web = join(dir, 'web');
    mkdirSync(join(web, 'assets'), { recursive: true });
    mkdirSync(join(web, 'admin'), { recursive: true });
    writeFileSync(join(web, 'index.html'), '<!doctype html><title>app</title>');
    writeFileSync(join(web, 'admin/index.html'), '<!doctype html><title>admin</title>');
    writeFileSync(join(web, 'assets/app-1.js'), 'console.log(1)');
    const s = await createTestServer({ config: { webDist: web } });
    try {
      const hit = await s.app.request('/assets/app-1.js');
      expect(hit.status).toBe(200);
      expect(hit.headers.get('cache-control')).toContain('immutable');
      for (const path of ['/assets/app-OLD.js', '/admin/assets/gone.js', '/missing.css']) {
        const miss = await s.app.request(path);
        expect(miss.status, path).toBe(404);
        expect(miss.headers.get('cache-control') ?? '', path).not.toContain('immutable');
        expect(await miss.text(), path).not.toContain('<title>');
      }
      // Pages still get the app shell (client-side routes).
      expect(await (await s.app.request('/history')).text()).toContain('<title>app</title>');
    } finally {
      await s.close();
    }
  });

  it('an ADMIN_TOKEN that no Authorization header can carry is refused at start', () => {
    expect(() => loadConfig({ ADMIN_TOKEN: `${'a'.repeat(40)}+/=` })).toThrow(/adminToken/);
    expect(loadConfig({ ADMIN_TOKEN: 'a'.repeat(40) }).adminToken).toBe('a'.repeat(40));
  });

  it('changing ADMIN_TOKEN and restarting revokes the old one', async () => {
    const data = join(dir, 'rotate');
    const base = {
      dataDir: data,
      defaultModelDir: join(data, 'none'),
      cataloguePath: join(data, 'none.csv'),
      webDist: join(data, 'none'),
      alertIntervalS: 0,
    };
    const { bootstrap } = await import('../../server/services.ts');
    const first = await createServices(loadConfig({}, { ...base, adminToken: 'A'.repeat(40) }), { log: () => {} });
    // As a store from before the rule holds it: under the plain `admin` subject.
    await first.tokens.ensure('A'.repeat(40), 'admin', 'admin');
    await bootstrap(first);
    expect(await first.tokens.lookup('A'.repeat(40))).not.toBeNull();
    await first.store.close();
    const second = await createServices(loadConfig({}, { ...base, adminToken: 'B'.repeat(40) }), { log: () => {} });
    await bootstrap(second);
    expect(await second.tokens.lookup('A'.repeat(40))).toBeNull();
    expect(await second.tokens.lookup('B'.repeat(40))).not.toBeNull();
    await second.store.close();
  });

  it('SQLite answers no write before the log that holds its commit is synced (group commit), or syncs in the commit when told FULL', async () => {
    const s = await createTestServer();
    try {
      // The commit does not wait for the disk on the event loop ...
      expect(s.deps.store.sqlite?.pragma('synchronous', { simple: true })).toBe(1);
      const version = await s.publish(await fixtureModel());
      const token = await s.enroll('dev-durable');
      const log = makeLog(catalogueSongs()[5] as Parameters<typeof makeLog>[0], {
        deviceId: 'dev-durable',
        modelVersion: version,
      });
      // ... but the answer does: hold the log's sync and the acknowledgement waits, with the row committed.
      let release: () => void = () => {};
      const synced = vi.spyOn(s.deps.store, 'synced').mockImplementation(
        () =>
          new Promise<void>((resolve) => {
            release = resolve;
          }),
      );
      let answered = false;
      const answer = s.req('/api/v1/logs', { token, json: { logs: [log] } }).then((r) => {
        answered = true;
        return r;
      });
      await vi.waitFor(() => expect(synced).toHaveBeenCalled());
      const row = await s.deps.store.db.selectFrom('logs').select('id').where('id', '=', log.id).executeTakeFirst();
      expect(row?.id).toBe(log.id);
      await new Promise((r) => setTimeout(r, 50));
      expect(answered).toBe(false);
      release();
      expect((await answer).status).toBe(200);
      // Reads are not held for it.
      synced.mockClear();
      expect((await s.req('/api/v1/admin/devices')).status).toBe(200);
      expect(synced).not.toHaveBeenCalled();
    } finally {
      vi.restoreAllMocks();
      await s.close();
    }
    const full = await createServices(
      loadConfig(
        {},
        {
          dataDir: join(dir, 'sync'),
          defaultModelDir: join(dir, 'x'),
          cataloguePath: join(dir, 'x.csv'),
          sqliteSynchronous: 'FULL',
        },
      ),
      { log: () => {} },
    );
    expect(full.store.sqlite?.pragma('synchronous', { simple: true })).toBe(2);
    await full.store.close();
  });
});

describe('trust boundary: the pinned label key', () => {
  it('an enrollment marks a key reset only when the admin issued the code with one, and the device keeps its key otherwise', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jukebox-key-'));
    const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ])) as CryptoKeyPair;
    const jwk = await crypto.subtle.exportKey('jwk', pair.publicKey);
    writeFileSync(join(dir, 'label.jwk.json'), JSON.stringify(jwk));
    const s = await createTestServer({ config: { labelPublicKeyFile: join(dir, 'label.jwk.json') } });
    try {
      type Enrolled = { publicKey?: JsonWebKey; keyReset?: { at: string } };
      const first = await newCode(s);
      const r1 = (await (
        await enrollWith(s, ((await first.json()) as { code: string }).code, 'dev-key')
      ).json()) as Enrolled;
      expect(r1.publicKey?.x).toBe(jwk.x);
      expect(r1.keyReset).toBeUndefined();
      const plain = ((await (await newCode(s, { deviceId: 'dev-key' })).json()) as { code: string }).code;
      const r2 = (await (await enrollWith(s, plain, 'dev-key')).json()) as Enrolled;
      expect(r2.keyReset).toBeUndefined();
      // A device that had pinned another key refuses this one without a reset …
      const pinnedElsewhere = { ...jwk, x: 'another-key' };
      expect(decidePinnedKey(pinnedElsewhere, r2.publicKey, r2.keyReset).ok).toBe(false);
      // … and takes it when the admin reset the key for this device.
      const reset = ((await (await newCode(s, { deviceId: 'dev-key', resetKey: true })).json()) as { code: string })
        .code;
      const r3 = (await (await enrollWith(s, reset, 'dev-key')).json()) as Enrolled;
      expect(typeof r3.keyReset?.at).toBe('string');
      const d = decidePinnedKey(pinnedElsewhere, r3.publicKey, r3.keyReset);
      expect(d.ok && d.value.action).toBe('replace');
      // A reset needs a device to reset.
      expect((await newCode(s, { resetKey: true })).status).toBe(400);
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
