import { describe, expect, it } from 'vitest';
import { LogBatchRequestSchema } from '../../model/contract/index.ts';
import { fakeModel, makeLog, rng } from '../testing/fixtures.ts';
import { isValidLogBatch } from './fast-log-check.ts';

const features = {
  is_explicit: 1,
  duration_ms: 200_000,
  danceability: 0.7,
  energy: 0.6,
  key: 5,
  loudness: -6,
  mode: 1,
  speechiness: 0.05,
  acousticness: 0.1,
  instrumentalness: 0,
  liveness: 0.1,
  valence: 0.5,
  tempo: 120,
};

const VALUES: unknown[] = [
  null,
  true,
  'x',
  '',
  [],
  {},
  -1,
  0,
  0.5,
  1,
  2,
  1e6,
  -0,
  1.5,
  'v1',
  3_600_001,
  999,
  Number.NaN,
  '2026-01-01T00:00:00Z',
];

describe('isValidLogBatch', () => {
  it('accepts what the schema accepts in the common case', () => {
    const logs = Array.from({ length: 5 }, (_, i) =>
      makeLog({ ...features, tempo: 100 + i }, { deviceId: 'd-1', modelVersion: 'v123' }),
    );
    expect(isValidLogBatch({ logs })).toBe(true);
    expect(fakeModel([0]).length).toBe(72);
  });

  it('never accepts a body the schema rejects (10,000 random mutations)', () => {
    const r = rng(99);
    let agreedValid = 0;
    for (let i = 0; i < 10_000; i++) {
      const log = JSON.parse(JSON.stringify(makeLog(features, { deviceId: 'd-1', modelVersion: 'v123' }))) as Record<
        string,
        unknown
      >;
      const inputs = log.inputs as Record<string, unknown>;
      const outputs = log.outputs as unknown[];
      const value = VALUES[Math.floor(r() * VALUES.length)];
      const keys = Object.keys(log);
      const fkeys = Object.keys(inputs);
      switch (Math.floor(r() * 7)) {
        case 0:
          log[keys[Math.floor(r() * keys.length)] as string] = value;
          break;
        case 1:
          inputs[fkeys[Math.floor(r() * fkeys.length)] as string] = value;
          break;
        case 2:
          outputs[Math.floor(r() * outputs.length)] = value;
          break;
        case 3:
          delete log[keys[Math.floor(r() * keys.length)] as string];
          break;
        case 4:
          log[r() < 0.5 ? 'songId' : 'extra'] = value;
          break;
        case 5:
          log.shadow =
            r() < 0.3
              ? value
              : {
                  modelVersion: r() < 0.5 ? 'v9' : value,
                  outputs: r() < 0.5 ? [...outputs] : value,
                  latencyMs: r() < 0.5 ? 1 : value,
                };
          break;
        default:
          inputs[r() < 0.5 ? 'extra' : (fkeys[0] as string)] = value;
      }
      const body = { logs: [log] };
      const fast = isValidLogBatch(body);
      const schema = LogBatchRequestSchema.safeParse(body).success;
      if (fast) {
        expect(schema, JSON.stringify(log).slice(0, 300)).toBe(true);
        agreedValid++;
      }
    }
    // Some mutations are harmless (e.g. a valid number), so the fast path is exercised on both sides.
    expect(agreedValid).toBeGreaterThan(100);
  });
});
