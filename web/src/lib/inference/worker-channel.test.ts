import { describe, expect, it } from 'vitest';
import type { WorkerRequest, WorkerResponse } from './protocol.ts';
import { WorkerChannel, type WorkerLike } from './worker-channel.ts';

/** A scripted worker: records requests, lets the test answer them. */
function scripted() {
  const sent: WorkerRequest[] = [];
  const listeners: Record<string, ((e: never) => void)[]> = { message: [], error: [] };
  const worker: WorkerLike = {
    postMessage: (m: WorkerRequest) => {
      sent.push(m);
    },
    addEventListener: (type: string, l: (e: never) => void) => {
      listeners[type]!.push(l);
    },
  };
  const reply = (m: WorkerResponse) => {
    for (const l of listeners.message!) l({ data: m } as never);
  };
  const crash = (message: string) => {
    for (const l of listeners.error!) l({ message } as never);
  };
  return { worker, sent, reply, crash };
}

describe('WorkerChannel', () => {
  it('matches answers to requests by id, whatever the order they come back in', async () => {
    const w = scripted();
    const ch = new WorkerChannel(w.worker);
    const a = ch.request({ type: 'memory' });
    const b = ch.request({ type: 'memory' });
    const [ida, idb] = w.sent.map((m) => m.id);
    expect(ida).not.toBe(idb);
    w.reply({ type: 'memory', id: idb!, numTensors: 2, numBytes: 0 });
    w.reply({ type: 'memory', id: ida!, numTensors: 1, numBytes: 0 });
    expect(await a).toMatchObject({ numTensors: 1 });
    expect(await b).toMatchObject({ numTensors: 2 });
    expect(ch.pendingCount).toBe(0);
  });

  it('routes progress to the caller and unsolicited benchmarks to listeners', async () => {
    const w = scripted();
    const ch = new WorkerChannel(w.worker);
    const progress: number[] = [];
    const heard: string[] = [];
    ch.onMessage((m) => heard.push(m.type));
    const p = ch.request(
      { type: 'predict', inputs: new Float32Array(13), rows: 1 },
      { onProgress: (d) => progress.push(d) },
    );
    const id = w.sent[0]!.id;
    w.reply({ type: 'progress', id, done: 5, total: 10 });
    w.reply({
      type: 'benchmark',
      id: 99,
      failures: [],
      benchmark: {
        userAgent: 'x',
        modelVersion: 'v1',
        measuredAt: '',
        tried: ['wasm'],
        timings: [],
        single: 'wasm',
        batch: 'wasm',
      },
    });
    w.reply({
      type: 'prediction',
      id,
      outputs: new Float32Array(72),
      rows: 1,
      backend: 'wasm',
      latencyMs: 0.1,
      shadowVersion: null,
    });
    expect((await p).type).toBe('prediction');
    expect(progress).toEqual([5]);
    expect(heard).toEqual(['benchmark']);
  });

  it('answers every pending request with an error when the worker dies, instead of hanging', async () => {
    const w = scripted();
    const ch = new WorkerChannel(w.worker);
    const p = ch.request({ type: 'memory' });
    w.crash('script failed to load');
    expect(await p).toMatchObject({ type: 'error', code: 'backend-unavailable', message: 'script failed to load' });
  });
});
