/** The app's enrollment and upload clients against the real server app (in process): the shapes must agree. */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../../../../model/client/api-client.ts';
import { normalizeEnrollmentCode } from '../../../../model/contract/enrollment-code.ts';
import { createTestServer, type TestServer } from '../../../../server/testing/harness.ts';
import { buildOutcome, localDate } from '../outcomes/build-outcome.ts';
import { httpPost } from '../sync/http-post.ts';
import { enrollDevice } from './enroll-device.ts';

let server: TestServer;
const viaApp = ((input: string, init?: RequestInit) => server.app.request(input, init)) as typeof fetch;

beforeAll(async () => {
  server = await createTestServer();
});
afterAll(async () => {
  await server?.close();
});

async function newCode(): Promise<string> {
  const r = await server.req('/api/v1/admin/enrollment-codes', { method: 'POST' });
  return ((await r.json()) as { code: string }).code;
}

describe('enrollDevice', () => {
  it('trades a code (typed loosely) for a token the server accepts, once', async () => {
    const code = await newCode();
    const typed = ` ${code.toLowerCase().replaceAll('-', ' - ')} `;
    expect(normalizeEnrollmentCode(typed)).toBe(code);
    const r = await enrollDevice({ code: typed, deviceId: 'dev_enroll_1' }, { fetch: viaApp });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.deviceId).toBe('dev_enroll_1');
    const me = await server.req('/api/v1/devices/me', { token: r.value.token });
    expect(me.status).toBe(200);
    // The same code again: used.
    const again = await enrollDevice({ code, deviceId: 'dev_enroll_2' }, { fetch: viaApp });
    expect(again).toMatchObject({ ok: false, code: 'enrollment-code-invalid' });
  });

  it('says which way it failed: unknown code, too short, no network', async () => {
    expect(await enrollDevice({ code: 'ZZZZ-ZZZZ-ZZZZ', deviceId: 'dev_x' }, { fetch: viaApp })).toMatchObject({
      ok: false,
      code: 'enrollment-code-invalid',
      message: 'The enrollment code is unknown, used or expired.',
    });
    expect(await enrollDevice({ code: 'ab', deviceId: 'dev_x' }, { fetch: viaApp })).toMatchObject({
      code: 'invalid-value',
    });
    const offline = (() => Promise.reject(new TypeError('Failed to fetch'))) as typeof fetch;
    expect(await enrollDevice({ code: 'ABCD-EFGH', deviceId: 'dev_x' }, { fetch: offline })).toMatchObject({
      code: 'network-error',
    });
  });
});

describe('enrollDevice with a label key on the server', () => {
  it('returns the public members of the label key to pin', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jukebox-key-'));
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    writeFileSync(join(dir, 'label.pub.json'), JSON.stringify(jwk));
    const keyed = await createTestServer({ config: { labelPublicKeyFile: join(dir, 'label.pub.json') } });
    try {
      const codeRes = await keyed.req('/api/v1/admin/enrollment-codes', { method: 'POST' });
      const { code } = (await codeRes.json()) as { code: string };
      const via = ((input: string, init?: RequestInit) => keyed.app.request(input, init)) as typeof fetch;
      const r = await enrollDevice({ code, deviceId: 'dev_keyed' }, { fetch: via });
      expect(r.ok && r.value.publicKey).toEqual({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y });
    } finally {
      await keyed.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('httpPost', () => {
  it('carries the token: an outcome is stored, without a token it is a 401, and a dead network is a value', async () => {
    const code = await newCode();
    const enrolled = await enrollDevice({ code, deviceId: 'dev_post_1' }, { fetch: viaApp });
    if (!enrolled.ok) throw new Error(enrolled.code);
    const log = {
      id: '01900000-0000-7000-8000-000000000001',
      inputs: {
        is_explicit: 0,
        duration_ms: 200_000,
        danceability: 0.5,
        energy: 0.5,
        key: 5,
        loudness: -7,
        mode: 1,
        speechiness: 0.05,
        acousticness: 0.2,
        instrumentalness: 0,
        liveness: 0.1,
        valence: 0.5,
        tempo: 120,
      },
    };
    const outcome = buildOutcome({
      log: log as never,
      country: 'FR',
      charted: true,
      date: localDate(),
      deviceId: 'dev_post_1',
    });
    if (!outcome.ok) throw new Error(outcome.code);
    const post = httpPost({ client: apiClient('', () => enrolled.value.token, { fetch: viaApp }) });
    const r = await post('/api/v1/outcomes', { outcomes: [outcome.value] });
    expect(r).toEqual({ status: 200, body: { stored: [outcome.value.id], duplicates: [] } });
    const again = await post('/api/v1/outcomes', { outcomes: [outcome.value] });
    expect(again).toEqual({ status: 200, body: { stored: [outcome.value.id], duplicates: [outcome.value.id] } });
    const anonymous = await httpPost({ client: apiClient('', () => null, { fetch: viaApp }) })('/api/v1/outcomes', {
      outcomes: [],
    });
    expect(anonymous).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    const down = httpPost({
      client: apiClient('', () => 'x', { fetch: (() => Promise.reject(new TypeError('reset'))) as typeof fetch }),
    });
    expect(await down('/api/v1/logs', {})).toEqual({ networkError: 'TypeError: reset' });
  });

  it('refuses an outcome dated in the future', () => {
    const future = new Date(Date.now() + 5 * 86_400_000);
    const r = buildOutcome({
      log: { id: 'x', songId: 's1' } as never,
      country: 'FR',
      charted: true,
      date: localDate(future),
      deviceId: 'dev_x',
    });
    expect(r).toMatchObject({ ok: false, code: 'invalid-value' });
  });
});
