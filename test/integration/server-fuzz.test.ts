/**
 * Fuzz: thousands of generated malformed bodies against the ingest, outcome,
 * enrollment and publish routes. Every answer must be a 4xx in the contract
 * error shape with a known code, nothing from a rejected batch may be stored,
 * and the server must still accept a valid batch afterwards.
 */
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiErrorSchema, isErrorCode } from '../../model/contract/index.ts';
import { catalogueSongs, fixtureModel, makeLog, publishBody, rng } from '../../server/testing/fixtures.ts';
import { createTestServer, type TestServer } from '../../server/testing/harness.ts';

type J = Record<string, unknown>;
const FIELDS = ['id', 'deviceId', 'modelVersion', 'backend', 'latencyMs', 'createdAt', 'inputs', 'outputs', 'source'];
const FEATURES = ['is_explicit', 'duration_ms', 'danceability', 'energy', 'key', 'loudness', 'mode', 'tempo'];
const WRONG = [null, true, 'x', '', [], {}, -1, '1.5', [1, 2], { a: 1 }];

/** Each mutation makes one log (or the body) certainly invalid. */
function mutations(r: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  return [
    (l: J) => void delete l[pick(FIELDS)],
    (l: J) => {
      l[pick(FIELDS)] = pick(WRONG.filter((w) => typeof w !== 'string'));
    },
    (l: J) => {
      l[`extra_${Math.floor(r() * 100)}`] = 1;
    },
    (l: J) => {
      (l.inputs as J)[pick(FEATURES)] = pick([-1e9, 1e12, 'a', null, 0.5 + 1e6, -61]);
    },
    (l: J) => void delete (l.inputs as J)[pick(FEATURES)],
    (l: J) => {
      (l.outputs as unknown[])[Math.floor(r() * 72)] = pick<unknown>([1.5, -0.1, 'p', null]);
    },
    (l: J) => {
      l.outputs = (l.outputs as number[]).slice(0, Math.floor(r() * 72));
    },
    (l: J) => {
      l.id = pick(['not-a-uuid', uuidv7().slice(0, 30), '', 42, '00000000-0000-4000-8000-000000000000']);
    },
    (l: J) => {
      l.createdAt = pick(['yesterday', '2026-13-40T00:00:00Z', 12345, '2026-01-01']);
    },
    (l: J) => {
      l.modelVersion = pick(['v0000000000aa', '-bad', '', 'x'.repeat(80)]);
    },
    (l: J) => {
      l.backend = pick(['tpu', 'WASM', '']);
    },
    (l: J) => {
      l.deviceId = pick(['other-device', 'bad id', '']);
    },
  ];
}

/** Mutations of the serialised text: never valid JSON of a valid batch. */
function textMutations(r: () => number) {
  return [
    (t: string) => t.slice(0, Math.max(1, Math.floor(r() * (t.length - 1)))),
    (t: string) => t.replace(/"latencyMs":[0-9.]+/, `"latencyMs":${r() < 0.5 ? 'NaN' : '-Infinity'}`),
    (t: string) => t.replace(/"danceability":[0-9.e-]+/, '"danceability":1e999'),
    (t: string) => `${t}}`,
    (t: string) => t.replace('{', "{'"),
    () => Array.from({ length: 1 + Math.floor(r() * 200) }, () => String.fromCharCode(Math.floor(r() * 256))).join(''),
    () => `${'['.repeat(5000)}${']'.repeat(5000)}`,
    () => pick(['null', '[]', '42', '"logs"', '{}', '{"logs":[]}', '{"logs":null}', '']),
  ];
  function pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(r() * xs.length)] as T;
  }
}

describe('fuzzing the API with malformed bodies', () => {
  let s: TestServer;
  let v: string;
  let token: string;
  const songs = catalogueSongs().slice(0, 50);
  beforeAll(async () => {
    s = await createTestServer({ config: { rateLimitPerMinute: 1_000_000 } });
    v = await s.publish(await fixtureModel());
    await s.req(`/api/v1/models/${v}/promote`, { method: 'POST' });
    token = await s.enroll('fuzz-dev');
  });
  afterAll(async () => s.close());

  it('answers every malformed body with a coded 4xx and stores nothing', async () => {
    const r = rng(20261123);
    const muts = mutations(r);
    const tmuts = textMutations(r);
    const codes = new Map<string, number>();
    const rejectedIds: string[] = [];
    const N = 3000;
    for (let i = 0; i < N; i++) {
      const n = 1 + Math.floor(r() * 12);
      const logs = Array.from({ length: n }, () =>
        makeLog(songs[Math.floor(r() * songs.length)]!, { deviceId: 'fuzz-dev', modelVersion: v }),
      );
      for (const l of logs) rejectedIds.push(l.id);
      const clone = JSON.parse(JSON.stringify(logs)) as J[];
      let body: string;
      const kind = r();
      if (kind < 0.6) {
        const k = 1 + Math.floor(r() * 3);
        for (let j = 0; j < k; j++) {
          const target = clone[Math.floor(r() * clone.length)] as J;
          try {
            (muts[Math.floor(r() * muts.length)] as (l: J) => void)(target);
          } catch {
            // An earlier mutation replaced the object this one edits: the log is already invalid.
          }
        }
        body = JSON.stringify({ logs: clone });
      } else if (kind < 0.9) {
        body = (tmuts[Math.floor(r() * tmuts.length)] as (t: string) => string)(JSON.stringify({ logs: clone }));
      } else {
        body = JSON.stringify(r() < 0.5 ? { logs: clone, extra: true } : { entries: clone });
      }
      const path = r() < 0.85 ? '/api/v1/logs' : pickOther(r);
      const res = await s.req(path, {
        method: 'POST',
        token: path === '/api/v1/enroll' ? null : token,
        body,
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status, `${path} ${body.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
      expect(res.status, body.slice(0, 200)).toBeLessThan(500);
      const parsed = ApiErrorSchema.safeParse(await res.json());
      expect(parsed.success).toBe(true);
      const code = parsed.data?.error.code ?? '';
      expect(isErrorCode(code), code).toBe(true);
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    // Nothing from a rejected batch was stored.
    for (let i = 0; i < rejectedIds.length; i += 500) {
      const found = await s.deps.store.db
        .selectFrom('logs')
        .select('id')
        .where('id', 'in', rejectedIds.slice(i, i + 500))
        .execute();
      expect(found).toEqual([]);
    }
    const counts = await s.deps.store.db.selectFrom('drift_buckets').select('stats').execute();
    expect(counts).toEqual([]);
    // Several distinct codes were exercised.
    expect([...codes.keys()]).toEqual(
      expect.arrayContaining([
        'validation-failed',
        'invalid-json',
        'invalid-value',
        'forbidden',
        'unknown-model-version',
      ]),
    );
    console.log('fuzz answers by code:', Object.fromEntries(codes));

    // Still alive and accepting valid work.
    const ok = await s.req('/api/v1/logs', {
      token,
      json: { logs: [makeLog(songs[0]!, { deviceId: 'fuzz-dev', modelVersion: v })] },
    });
    expect(ok.status).toBe(200);
  });

  it('refuses malformed publishes without storing a version', async () => {
    const m = await fixtureModel({ salt: 'z' });
    const good = publishBody(m);
    const r = rng(5);
    const variants: unknown[] = [];
    for (let i = 0; i < 300; i++) {
      const b = JSON.parse(JSON.stringify(good)) as { manifest: J; files: Record<string, string> };
      const k = Math.floor(r() * 6);
      if (k === 0)
        delete b.manifest[Object.keys(b.manifest)[Math.floor(r() * Object.keys(b.manifest).length)] as string];
      else if (k === 1) b.files['weights.bin'] = Buffer.from(`junk${i}`).toString('base64');
      else if (k === 2) b.files['weights.bin'] = '@@not base64@@';
      else if (k === 3) b.manifest.version = `v${i.toString(16).padStart(12, '0')}`;
      else if (k === 4) (b.manifest.reference as J).songs = -i;
      else b.files[`extra${i}.bin`] = 'AAAA';
      variants.push(b);
    }
    for (const b of variants) {
      const res = await s.req('/api/v1/models', { json: b });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(isErrorCode(ApiErrorSchema.parse(await res.json()).error.code)).toBe(true);
    }
    const versions = await s.deps.store.db.selectFrom('models').select('version').execute();
    expect(versions.map((x) => x.version)).toEqual([v]);
  });
});

function pickOther(r: () => number): string {
  const xs = ['/api/v1/outcomes', '/api/v1/enroll', '/api/v1/models/v0000000000aa/canary', '/api/v1/rollout/shadow'];
  return xs[Math.floor(r() * xs.length)] as string;
}
