import { describe, expect, it } from 'vitest';
import { apiClient, endpointUrl } from './api-client.ts';

const assignment = { active: 'v1', cohort: 'production', shadow: null, checkedAt: '2026-01-01T00:00:00.000Z' };

/** A fetch that records what it was asked and answers with `reply`. */
function fake(reply: () => Response | Promise<Response>) {
  const calls: { url: string; init: RequestInit | undefined }[] = [];
  const f = (async (input: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: String(input), init });
    return reply();
  }) as typeof fetch;
  return { f, calls };
}

describe('apiClient', () => {
  it('builds URLs from the table: params encoded, query serialised, base without a trailing slash', () => {
    expect(endpointUrl('http://h/', 'modelFile', { version: 'v1', path: 'a b/c.bin' })).toBe(
      'http://h/api/v1/models/v1/files/a%20b%2Fc.bin',
    );
    expect(endpointUrl('', 'audit', undefined, { limit: 5, action: 'promote' })).toBe(
      '/api/v1/audit?limit=5&action=promote',
    );
    expect(() => endpointUrl('', 'getModel', {} as never)).toThrow(/version/);
  });

  it('sends the token on token routes only, and parses the answer with the response schema', async () => {
    const { f, calls } = fake(() => Response.json(assignment));
    const r = await apiClient('', () => 'tok', { fetch: f }).call('assignment');
    expect(r).toMatchObject({ ok: true, status: 200, value: assignment });
    expect(new Headers(calls[0]?.init?.headers).get('authorization')).toBe('Bearer tok');
    await apiClient('', 'tok', { fetch: f }).call('enroll', { json: { code: 'ABCD-EFGH', deviceId: 'd1' } });
    expect(new Headers(calls[1]?.init?.headers).get('authorization')).toBeNull();
    expect(new Headers(calls[1]?.init?.headers).get('content-type')).toBe('application/json');
  });

  it('an answer that does not match the contract is a failure, not a value', async () => {
    const { f } = fake(() => Response.json({ ...assignment, cohort: 'everyone' }));
    const r = await apiClient('', 'tok', { fetch: f }).call('assignment');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.code).toBe('invalid-value');
  });

  it('error bodies are parsed with the contract error schema; others get a code from the status', async () => {
    const coded = fake(() => Response.json({ error: { code: 'device-revoked', message: 'gone' } }, { status: 403 }));
    const r = await apiClient('', 'tok', { fetch: coded.f }).call('ownDevice');
    expect(r).toMatchObject({ ok: false, status: 403, code: 'device-revoked', message: 'gone' });
    const html = fake(() => new Response('<html>bad gateway</html>', { status: 502 }));
    expect(await apiClient('', 'tok', { fetch: html.f }).call('ownDevice')).toMatchObject({
      ok: false,
      status: 502,
      code: 'internal',
    });
    const down = fake(() => Promise.reject(new TypeError('reset')));
    expect(await apiClient('', 'tok', { fetch: down.f }).call('ownDevice')).toMatchObject({
      ok: false,
      status: 0,
      code: 'network-error',
    });
  });

  it('sends a pre-encoded body with its own headers, and 304 is a null value', async () => {
    const { f, calls } = fake(() => Response.json({ stored: [], duplicates: [] }));
    const body = new Uint8Array([31, 139]);
    await apiClient('', 'tok', { fetch: f }).exchange('uploadLogs', {
      encoded: { body, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } },
    });
    expect(calls[0]?.init?.body).toBe(body);
    expect(new Headers(calls[0]?.init?.headers).get('content-encoding')).toBe('gzip');
    expect(calls[0]?.init?.method).toBe('POST');
    const same = fake(() => new Response(null, { status: 304 }));
    const r = await apiClient('', 'tok', { fetch: same.f }).callIfChanged('catalogue', '"e1"');
    expect(r).toMatchObject({ ok: true, status: 304, value: null });
    expect(new Headers(same.calls[0]?.init?.headers).get('if-none-match')).toBe('"e1"');
  });
});
