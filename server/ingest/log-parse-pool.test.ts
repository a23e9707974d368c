import { describe, expect, it } from 'vitest';
import { DEFAULT_EVENT_WINDOW, featureFingerprint, type PredictionLog } from '../../model/contract/index.ts';
import { catalogueSongs, makeLog } from '../testing/fixtures.ts';
import { inProcessLogParser, logParser } from './log-parse-pool.ts';

const now = Date.now();
const logs: PredictionLog[] = catalogueSongs()
  .slice(0, 20)
  .map((s) => makeLog(s, { deviceId: 'd1', modelVersion: 'v1' }));
const bytes = (body: string) => new TextEncoder().encode(body);

/** Bodies covering each answer: valid, not JSON, NaN, a schema error on one item, an event time out of window. */
const bodies: [string, string][] = [
  ['valid', JSON.stringify({ logs })],
  ['not JSON', '{"logs": ['],
  ['NaN', JSON.stringify({ logs }).replace(/"latencyMs":[0-9.]+/, '"latencyMs":NaN')],
  ['schema', JSON.stringify({ logs: logs.map((l, i) => (i === 3 ? { ...l, backend: 'quantum' } : l)) })],
  ['late', JSON.stringify({ logs: logs.map((l, i) => (i === 5 ? { ...l, createdAt: '2001-01-01T00:00:00Z' } : l)) })],
];

describe('log parse thread', () => {
  it('answers every kind of body exactly as parsing in process does', async () => {
    const thread = logParser(1);
    for (const [name, body] of bodies) {
      const there = await thread.parse(bytes(body), now, DEFAULT_EVENT_WINDOW);
      const here = await inProcessLogParser.parse(bytes(body), now, DEFAULT_EVENT_WINDOW);
      expect(there, name).toEqual(here);
    }
    const ok = await thread.parse(bytes(bodies[0]?.[1] as string), now, DEFAULT_EVENT_WINDOW);
    expect(ok.ok && ok.fingerprints).toEqual(logs.map((l) => featureFingerprint(l.inputs)));
    const codes = await Promise.all(
      bodies.map(async ([, b]) => {
        const r = await thread.parse(bytes(b), now, DEFAULT_EVENT_WINDOW);
        return r.ok ? 'ok' : r.code;
      }),
    );
    expect(codes).toEqual(['ok', 'invalid-json', 'invalid-value', 'validation-failed', 'validation-failed']);
  });

  it('moves the body to the thread rather than copying it, and keeps many batches in order', async () => {
    const thread = logParser(1);
    const b = bytes(bodies[0]?.[1] as string);
    const answer = thread.parse(b, now, DEFAULT_EVENT_WINDOW);
    // Transferred: the caller's view is detached at once.
    expect(b.byteLength).toBe(0);
    expect((await answer).ok).toBe(true);
    const many = await Promise.all(
      logs.map((l) => thread.parse(bytes(JSON.stringify({ logs: [l] })), now, DEFAULT_EVENT_WINDOW)),
    );
    expect(many.map((r) => (r.ok ? r.logs[0]?.id : r.code))).toEqual(logs.map((l) => l.id));
  });
});
