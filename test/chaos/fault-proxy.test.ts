import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom, startFaultProxy } from './fault-proxy.ts';

let received = 0;
const upstream = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    received += 1;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
});

beforeAll(async () => {
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
});
afterAll(async () => {
  await new Promise<void>((r) => upstream.close(() => r()));
});

describe('fault proxy', () => {
  it('drops requests and responses at about the configured rates, reproducibly', async () => {
    const port = (upstream.address() as AddressInfo).port;
    const proxy = await startFaultProxy(port, {
      dropRequest: 0.3,
      dropResponse: 0.3,
      delay: 0.2,
      maxDelayMs: 5,
      seed: 42,
    });
    received = 0;
    let answered = 0;
    let failed = 0;
    const n = 300;
    for (let i = 0; i < n; i++) {
      try {
        const r = await fetch(`${proxy.url}/x`, { method: 'POST', body: '{}' });
        if (r.ok) answered += 1;
      } catch {
        failed += 1;
      }
    }
    await proxy.close();
    expect(answered + failed).toBe(n);
    expect(proxy.counts.droppedRequests).toBeGreaterThan(n * 0.2);
    expect(proxy.counts.droppedRequests).toBeLessThan(n * 0.4);
    // Responses dropped after the upstream acted: the server saw more than the client got.
    expect(received).toBe(answered + proxy.counts.droppedResponses);
    expect(proxy.counts.droppedResponses).toBeGreaterThan(0);
    expect(answered).toBe(proxy.counts.forwarded);
  });

  it('replays the same pattern from the same seed', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    expect(Array.from({ length: 5 }, a)).toEqual(Array.from({ length: 5 }, b));
  });
});
