import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { gzipFetch, isLoopback } from './gzip-body.ts';

interface Sent {
  readonly encoding: string | null;
  readonly text: string;
}

/** A fake server: records what arrived (inflated) and answers with `answer(sent)`. */
function server(answer: (sent: Sent) => { status: number; body: unknown }) {
  const sent: Sent[] = [];
  const doFetch = (async (_input: RequestInfo | URL, init?: RequestInit) => {
    const encoding = new Headers(init?.headers).get('content-encoding');
    const raw = init?.body;
    const text =
      typeof raw === 'string' ? raw : encoding === 'gzip' ? gunzipSync(raw as Uint8Array).toString() : String(raw);
    const s = { encoding, text };
    sent.push(s);
    const a = answer(s);
    return new Response(JSON.stringify(a.body), { status: a.status, headers: { 'content-type': 'application/json' } });
  }) as typeof globalThis.fetch;
  return { sent, fetch: doFetch };
}

const big = JSON.stringify({ logs: Array.from({ length: 50 }, (_, i) => ({ id: `id-${i}`, outputs: [0.25, 0.5] })) });
const post = (f: typeof fetch, body: string) =>
  f('/api/v1/logs', { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe('gzipFetch', () => {
  it('sends JSON bodies over 1 KiB gzipped (the same JSON once inflated), small ones as they are', async () => {
    const s = server(() => ({ status: 200, body: { stored: [] } }));
    const f = gzipFetch(s.fetch);
    expect((await post(f, big)).status).toBe(200);
    expect(await post(f, '{"logs":[]}')).toBeInstanceOf(Response);
    expect(s.sent).toEqual([
      { encoding: 'gzip', text: big },
      { encoding: null, text: '{"logs":[]}' },
    ]);
  });

  it('resends uncompressed when the server cannot read gzip, and stays uncompressed after', async () => {
    // An older server reads the gzip bytes as JSON text and answers 400 invalid-json.
    const s = server((x) =>
      x.encoding === 'gzip'
        ? { status: 400, body: { error: { code: 'invalid-json', message: 'not JSON' } } }
        : { status: 200, body: { stored: ['id-0'] } },
    );
    const f = gzipFetch(s.fetch);
    const r = await post(f, big);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ stored: ['id-0'] });
    await post(f, big);
    expect(s.sent.map((x) => x.encoding)).toEqual(['gzip', null, null]);
  });

  it('sends plain JSON to a server on this machine (loopback), where compressing only costs time', async () => {
    const s = server(() => ({ status: 200, body: { stored: [] } }));
    const f = gzipFetch(s.fetch);
    for (const url of ['http://127.0.0.1:8080/api/v1/logs', 'http://localhost/api/v1/logs', 'http://[::1]:80/x']) {
      await f(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
    }
    await f('https://label.example/api/v1/logs', { method: 'POST', body: big });
    expect(s.sent.map((x) => x.encoding)).toEqual([null, null, null, 'gzip']);
    expect(isLoopback('http://127.0.0.1.example.com/')).toBe(false);
  });

  it('does not resend on an answer about the items themselves', async () => {
    const s = server(() => ({ status: 422, body: { error: { code: 'validation-failed', message: 'bad item' } } }));
    const f = gzipFetch(s.fetch);
    expect((await post(f, big)).status).toBe(422);
    expect((await post(f, big)).status).toBe(422);
    expect(s.sent.map((x) => x.encoding)).toEqual(['gzip', 'gzip']);
  });
});
