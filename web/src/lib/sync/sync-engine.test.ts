import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.ts';
import { type HttpResult, type Outbox, type Rejection, SyncEngine } from './sync-engine.ts';

class MemoryOutbox implements Outbox<{ id: string }> {
  readonly path = '/api/v1/logs';
  readonly field = 'logs';
  readonly synced = new Set<string>();
  readonly rejected = new Map<string, Rejection>();
  constructor(readonly items: { id: string }[]) {}
  async unsynced(limit: number, skip?: ReadonlySet<string>) {
    const left = (i: { id: string }) => !this.synced.has(i.id) && !this.rejected.has(i.id) && !skip?.has(i.id);
    return this.items.filter(left).slice(0, limit);
  }
  async markSynced(ids: readonly string[]) {
    for (const id of ids) this.synced.add(id);
  }
  async markRejected(rs: readonly Rejection[]) {
    for (const r of rs) this.rejected.set(r.id, r);
  }
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `id-${String(i).padStart(4, '0')}` }));
const okBody = (body: unknown) => {
  const logs = (body as { logs: { id: string }[] }).logs;
  return { status: 200, body: { stored: logs.map((l) => l.id), duplicates: [] } };
};

function engineWith(outbox: MemoryOutbox, post: (path: string, body: unknown) => Promise<HttpResult>) {
  const timers: { fn: () => void; ms: number }[] = [];
  const engine = new SyncEngine({
    outboxes: [outbox],
    post,
    batchSize: 100,
    random: () => 0.5,
    setTimer: (fn, ms) => timers.push({ fn, ms }),
    clearTimer: () => {},
  });
  return { engine, timers };
}

describe('SyncEngine', () => {
  it('uploads everything in batches and marks only acknowledged ids', async () => {
    const outbox = new MemoryOutbox(ids(250));
    const sizes: number[] = [];
    const { engine } = engineWith(outbox, async (_p, body) => {
      sizes.push((body as { logs: unknown[] }).logs.length);
      return okBody(body);
    });
    const report = await engine.syncNow();
    expect(report).toEqual({ sent: 250, rejected: 0, complete: true });
    expect(sizes).toEqual([100, 100, 50]);
    expect(outbox.synced.size).toBe(250);
    expect(engine.state.status).toBe('idle');
    expect(engine.state.lastSyncAt).not.toBeNull();
  });

  it('keeps items whose acknowledgement was lost and resends them, without losing any', async () => {
    const outbox = new MemoryOutbox(ids(30));
    let calls = 0;
    const { engine, timers } = engineWith(outbox, async (_p, body) => {
      calls += 1;
      // The server stored the batch but the response was dropped.
      if (calls === 1) return { networkError: 'reset' };
      return okBody(body);
    });
    const first = await engine.syncNow();
    expect(first.complete).toBe(false);
    expect(outbox.synced.size).toBe(0);
    expect(engine.state.status).toBe('waiting-to-retry');
    expect(timers).toHaveLength(1);
    timers[0]!.fn();
    await engine.syncNow();
    expect(outbox.synced.size).toBe(30);
  });

  it('sets aside exactly the items the server rejects and sends the rest', async () => {
    const outbox = new MemoryOutbox(ids(5));
    const { engine } = engineWith(outbox, async (_p, body) => {
      const logs = (body as { logs: { id: string }[] }).logs;
      const bad = logs.findIndex((l) => l.id === 'id-0002');
      if (bad >= 0) {
        return {
          status: 422,
          body: {
            error: {
              code: 'validation-failed',
              message: 'bad batch',
              details: { items: [{ index: bad, id: 'id-0002', code: 'feature-out-of-range', message: 'tempo' }] },
            },
          },
        };
      }
      return okBody(body);
    });
    const report = await engine.syncNow();
    expect(report).toEqual({ sent: 4, rejected: 1, complete: true });
    expect([...outbox.rejected.keys()]).toEqual(['id-0002']);
    expect(outbox.rejected.get('id-0002')?.code).toBe('feature-out-of-range');
  });

  it('backs off exponentially on server errors and stops on auth failures', async () => {
    const outbox = new MemoryOutbox(ids(3));
    const { engine, timers } = engineWith(outbox, async () => ({ status: 503, body: {} }));
    await engine.syncNow();
    await engine.syncNow();
    await engine.syncNow();
    expect(timers.map((t) => t.ms)).toEqual([500, 1000, 2000]);
    expect(engine.state.attempt).toBe(3);

    const denied = engineWith(new MemoryOutbox(ids(3)), async () => ({
      status: 401,
      body: { error: { code: 'unauthorized', message: 'A valid token is required.' } },
    }));
    const r = await denied.engine.syncNow();
    expect(r.complete).toBe(false);
    expect(denied.engine.state.status).toBe('unauthorized');
    expect(denied.timers).toHaveLength(0);
  });

  it('halves the batch when the body is too large, and sets aside only an item too large on its own', async () => {
    const outbox = new MemoryOutbox(ids(10));
    const sizes: number[] = [];
    const { engine } = engineWith(outbox, async (_p, body) => {
      const logs = (body as { logs: { id: string }[] }).logs;
      sizes.push(logs.length);
      const tooLarge = { status: 413, body: { error: { code: 'body-too-large', message: 'too large' } } };
      if (logs.length > 3 || logs.some((l) => l.id === 'id-0007')) return tooLarge;
      return okBody(body);
    });
    const report = await engine.syncNow();
    expect(report).toEqual({ sent: 9, rejected: 1, complete: true });
    expect([...outbox.rejected.keys()]).toEqual(['id-0007']);
    expect(outbox.rejected.get('id-0007')?.code).toBe('body-too-large');
    expect(sizes.slice(0, 4)).toEqual([10, 5, 2, 2]);
  });

  it('keeps two full batches in flight once the server takes them, never sending an id twice', async () => {
    const outbox = new MemoryOutbox(ids(450));
    let inFlight = 0;
    let most = 0;
    const seen: string[] = [];
    const { engine } = engineWith(outbox, async (_p, body) => {
      seen.push(...(body as { logs: { id: string }[] }).logs.map((l) => l.id));
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return okBody(body);
    });
    expect(await engine.syncNow()).toEqual({ sent: 450, rejected: 0, complete: true });
    expect(most).toBe(2);
    expect(seen).toHaveLength(450);
    expect(new Set(seen).size).toBe(450);
  });

  it('stops on an auth failure with a batch still in flight: that batch is answered and marked, not lost', async () => {
    const outbox = new MemoryOutbox(ids(500));
    let calls = 0;
    const sent: string[] = [];
    const { engine } = engineWith(outbox, async (_p, body) => {
      const n = ++calls;
      sent.push(...(body as { logs: { id: string }[] }).logs.map((l) => l.id));
      // The third request is refused while the fourth, sent beside it, is still being answered.
      if (n === 3) return { status: 401, body: { error: { code: 'unauthorized', message: 'expired' } } };
      if (n === 4) await new Promise((r) => setTimeout(r, 20));
      return okBody(body);
    });
    const r = await engine.syncNow();
    expect(r).toEqual({ sent: 300, rejected: 0, complete: false });
    expect(engine.state.status).toBe('unauthorized');
    expect(calls).toBe(4);
    expect(outbox.synced.size).toBe(300);
    expect(new Set(sent).size).toBe(sent.length);
  });

  it('joins a pass already running instead of sending twice', async () => {
    const outbox = new MemoryOutbox(ids(10));
    let posts = 0;
    const { engine } = engineWith(outbox, async (_p, body) => {
      posts += 1;
      await new Promise((r) => setTimeout(r, 5));
      return okBody(body);
    });
    await Promise.all([engine.syncNow(), engine.syncNow()]);
    expect(posts).toBe(1);
  });
});

describe('backoffDelay', () => {
  it('caps the exponential and spreads by jitter', () => {
    expect(backoffDelay(0, () => 0.999, { baseMs: 1000, maxMs: 10_000 })).toBe(999);
    expect(backoffDelay(10, () => 0.999, { baseMs: 1000, maxMs: 10_000 })).toBe(9990);
    expect(backoffDelay(3, () => 0, { baseMs: 1000, maxMs: 10_000 })).toBe(0);
  });
});
