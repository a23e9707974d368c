/**
 * Gzip request bodies (issue 13): a device may send its batches with `Content-Encoding: gzip`. The route's body
 * limit holds for the inflated size too, enforced while inflating, so a zip bomb is refused with 413 without the
 * server ever holding it; a corrupt stream or another coding gets a clear 4xx, never a 500; nothing already stored
 * is lost.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../../model/client/api-client.ts';
import { gunzipBounded } from '../../server/http/gunzip-bounded.ts';
import { catalogueSongs, type FixtureModel, fixtureModel, makeLog } from '../../server/testing/fixtures.ts';
import { createTestServer, type TestServer } from '../../server/testing/harness.ts';
import { gzipFetch } from '../../web/src/lib/sync/gzip-body.ts';
import { httpPost } from '../../web/src/lib/sync/http-post.ts';

type ErrorBody = { error: { code: string; details?: Record<string, unknown> } };

describe('gzip request bodies', () => {
  let s: TestServer;
  let model: FixtureModel;
  let version: string;
  let token: string;
  const song = () => catalogueSongs()[3] as Parameters<typeof makeLog>[0];
  beforeAll(async () => {
    s = await createTestServer({ config: { logBodyLimitBytes: 4 * 1024 * 1024 } });
    model = await fixtureModel({ salt: 'gzip' });
    version = await s.publish(model);
    token = await s.enroll('dev-gzip');
  });
  afterAll(async () => s?.close());

  const post = (path: string, body: Uint8Array | string, encoding?: string) =>
    s.app.request(path, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        ...(encoding ? { 'content-encoding': encoding } : {}),
      },
      body: body as BodyInit,
    });
  const stored = async (ids: string[]) =>
    (await s.deps.store.db.selectFrom('logs').select('id').where('id', 'in', ids).execute()).length;

  it('stores a gzip-compressed batch of logs, the same as plain JSON', async () => {
    const logs = Array.from({ length: 200 }, () => makeLog(song(), { deviceId: 'dev-gzip', modelVersion: version }));
    const r = await post('/api/v1/logs', gzipSync(JSON.stringify({ logs })), 'gzip');
    expect(r.status).toBe(200);
    expect(((await r.json()) as { stored: string[] }).stored).toHaveLength(200);
    expect(await stored(logs.map((l) => l.id))).toBe(200);
    // Outcomes and every other JSON route read bodies the same way.
    const plain = await post('/api/v1/logs', JSON.stringify({ logs: logs.slice(0, 1) }));
    expect(((await plain.json()) as { duplicates: string[] }).duplicates).toEqual([logs[0]!.id]);
  });

  it("the device's upload sends a batch gzipped and the server stores it", async () => {
    const encodings: (string | null)[] = [];
    // The device's client as DeviceSync builds it: the contract's API client over the gzip fetch.
    const client = apiClient('', () => token, {
      fetch: gzipFetch((async (input: string, init?: RequestInit) => {
        encodings.push(new Headers(init?.headers).get('content-encoding'));
        return s.app.request(input, init);
      }) as typeof fetch),
    });
    const post = httpPost({ client });
    const logs = Array.from({ length: 1_000 }, () => makeLog(song(), { deviceId: 'dev-gzip', modelVersion: version }));
    const r = await post('/api/v1/logs', { logs });
    expect(r).toMatchObject({ status: 200 });
    expect(encodings).toEqual(['gzip']);
    expect(await stored(logs.map((l) => l.id))).toBe(1_000);
  });

  it('refuses a zip bomb with 413 while inflating: memory stays far below what it would inflate to', async () => {
    // 16 gzip members of 64 MiB of zeros each: ~1 MiB on the wire (under the 4 MiB limit), 1 GiB inflated.
    const member = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
    const bomb = Buffer.concat(Array.from({ length: 16 }, () => member));
    expect(bomb.byteLength).toBeLessThan(4 * 1024 * 1024);
    global.gc?.();
    const before = process.memoryUsage();
    let peak = 0;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peak = Math.max(peak, m.rss - before.rss, m.arrayBuffers - before.arrayBuffers);
    }, 2);
    const r = await post('/api/v1/logs', bomb, 'gzip');
    clearInterval(sampler);
    const m = process.memoryUsage();
    peak = Math.max(peak, m.rss - before.rss, m.arrayBuffers - before.arrayBuffers);
    expect(r.status).toBe(413);
    const body = (await r.json()) as ErrorBody;
    expect(body.error.code).toBe('body-too-large');
    expect(body.error.details).toMatchObject({ maxBytes: 4 * 1024 * 1024, inflated: true });
    // Inflating it whole would take 1 GiB; the bound is 4 MiB.
    expect(peak).toBeLessThan(128 * 1024 * 1024);
  });

  it('stops inflating at the bound (counted bytes, not just the answer)', async () => {
    const member = gzipSync(Buffer.alloc(8 * 1024 * 1024));
    const t0 = performance.now();
    const r = await gunzipBounded(Buffer.concat(Array.from({ length: 64 }, () => member)), 256 * 1024);
    expect(r).toEqual({ ok: false, reason: 'too-large' });
    // 512 MiB inflated whole takes seconds; stopping at 256 KiB takes milliseconds.
    expect(performance.now() - t0).toBeLessThan(1_000);
    const ok = await gunzipBounded(gzipSync('{"a":1}'), 7);
    expect(ok.ok && ok.bytes.toString()).toBe('{"a":1}');
  });

  it('answers a corrupt or truncated stream with 400 invalid-body-encoding, and another coding with 415', async () => {
    const logs = [makeLog(song(), { deviceId: 'dev-gzip', modelVersion: version })];
    const good = gzipSync(JSON.stringify({ logs }));
    for (const bad of [good.subarray(0, good.byteLength - 12), Buffer.from('{"logs":[]}'), new Uint8Array(0)]) {
      const r = await post('/api/v1/logs', bad, 'gzip');
      expect(r.status).toBe(400);
      expect(((await r.json()) as ErrorBody).error.code).toBe('invalid-body-encoding');
    }
    for (const encoding of ['br', 'deflate', 'gzip, gzip']) {
      const r = await post('/api/v1/logs', good, encoding);
      expect(r.status, encoding).toBe(415);
      expect(((await r.json()) as ErrorBody).error.code).toBe('unsupported-content-encoding');
    }
    expect(await stored(logs.map((l) => l.id))).toBe(0);
    // The same batch, well formed, is then taken.
    expect((await post('/api/v1/logs', good, 'gzip')).status).toBe(200);
  });

  it('holds small JSON routes to their own limit once inflated', async () => {
    const padded = gzipSync(JSON.stringify({ autoOnAlert: true, pad: ' '.repeat(2 * 1024 * 1024) }));
    expect(padded.byteLength).toBeLessThan(s.deps.config.jsonBodyLimitBytes);
    const r = await s.app.request('/api/v1/settings/retrain', {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${s.adminToken}`,
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      },
      body: padded,
    });
    expect(r.status).toBe(413);
    expect(((await r.json()) as ErrorBody).error.details).toMatchObject({ maxBytes: s.deps.config.jsonBodyLimitBytes });
  });
});
