/**
 * Property: for every route that takes a JSON body, any body its schema refuses is answered with a 4xx whose code
 * is one of the contract's (model/contract/errors.ts), and nothing is stored; never a 500. Bodies are arbitrary
 * JSON values, valid bodies with one part replaced by arbitrary JSON or an extra key added, and text that is not
 * JSON at all. Run counts are modest so CI stays fast.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  CanaryRequestSchema,
  DeviceEventBatchSchema,
  EnrollmentCodeRequestSchema,
  EnrollRequestSchema,
  ERROR_CODES,
  LogBatchRequestSchema,
  OutcomeBatchRequestSchema,
  PublishRequestSchema,
  RetrainSettingsRequestSchema,
  ShadowRequestSchema,
  StartJobRequestSchema,
} from '../../model/contract/index.ts';
import type { Database } from '../../server/store/schema.ts';
import { catalogueSongs, deviceOutcome, fixtureModel, makeLog, publishBody } from '../../server/testing/fixtures.ts';
import { createTestServer, type TestServer } from '../../server/testing/harness.ts';

const RUNS = 40;
const TABLES: (keyof Database)[] = [
  'logs',
  'outcomes',
  'devices',
  'tokens',
  'enrollment_codes',
  'models',
  'model_files',
  'audit',
  'device_events',
  'jobs',
  'settings',
  'rollout',
  'drift_buckets',
  'day_fingerprints',
];

interface Route {
  method: 'POST' | 'PUT';
  path: string;
  as: 'admin' | 'device' | 'public';
  schema: z.ZodType;
  valid: () => unknown;
}

/** Replaces the value at a random path of `base` (objects and arrays) with `value`, or adds a key at the top. */
function mutate(base: unknown, pick: number, value: unknown, extraKey: string | null): unknown {
  const copy = JSON.parse(JSON.stringify(base)) as unknown;
  if (extraKey !== null && copy && typeof copy === 'object' && !Array.isArray(copy)) {
    (copy as Record<string, unknown>)[extraKey] = value;
    return copy;
  }
  const slots: [Record<string, unknown> | unknown[], string | number][] = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth > 4 || !v || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      for (let i = 0; i < Math.min(3, v.length); i++) {
        slots.push([v, i]);
        walk(v[i], depth + 1);
      }
      return;
    }
    for (const [k, x] of Object.entries(v)) {
      slots.push([v as Record<string, unknown>, k]);
      walk(x, depth + 1);
    }
  };
  walk(copy, 0);
  if (slots.length === 0) return value;
  const [holder, key] = slots[pick % slots.length] as [Record<string, unknown>, string];
  holder[key] = value;
  return copy;
}

describe('every JSON route refuses what its schema refuses, with a contract code, storing nothing', () => {
  let s: TestServer;
  let deviceToken: string;
  let version: string;
  let publish: unknown;
  let routes: Route[];
  let ip = 0;

  beforeAll(async () => {
    s = await createTestServer({ config: { trustProxy: true } });
    const model = await fixtureModel({ salt: 'prop' });
    version = await s.publish(model);
    publish = publishBody(await fixtureModel({ salt: 'prop2' }));
    deviceToken = await s.enroll('dev-prop');
    const song = catalogueSongs()[1] as Parameters<typeof makeLog>[0];
    routes = [
      {
        method: 'POST',
        path: '/api/v1/enroll',
        as: 'public',
        schema: EnrollRequestSchema,
        valid: () => ({ code: 'ABCD-EFGH-JKMN', deviceId: 'dev-new' }),
      },
      {
        method: 'POST',
        path: '/api/v1/admin/enrollment-codes',
        as: 'admin',
        schema: EnrollmentCodeRequestSchema,
        valid: () => ({ expiresInHours: 5, deviceId: 'dev-prop' }),
      },
      {
        method: 'POST',
        path: '/api/v1/devices/me/events',
        as: 'device',
        schema: DeviceEventBatchSchema,
        valid: () => ({
          events: [
            {
              id: '0190a2b3-0000-7000-8000-000000000001',
              kind: 'model-refused',
              version,
              at: new Date().toISOString(),
            },
          ],
        }),
      },
      {
        method: 'POST',
        path: '/api/v1/logs',
        as: 'device',
        schema: LogBatchRequestSchema,
        valid: () => ({ logs: [makeLog(song, { deviceId: 'dev-prop', modelVersion: version })] }),
      },
      {
        method: 'POST',
        path: '/api/v1/outcomes',
        as: 'device',
        schema: OutcomeBatchRequestSchema,
        valid: () => ({
          outcomes: [
            deviceOutcome({
              id: '0190a2b3-0000-7000-8000-000000000002',
              songId: 's1',
              country: 'US',
              date: '2026-11-01',
            }),
          ],
        }),
      },
      { method: 'POST', path: '/api/v1/models', as: 'admin', schema: PublishRequestSchema, valid: () => publish },
      {
        method: 'POST',
        path: `/api/v1/models/${'VERSION'}/canary`,
        as: 'admin',
        schema: CanaryRequestSchema,
        valid: () => ({ percent: 10 }),
      },
      {
        method: 'PUT',
        path: '/api/v1/rollout/shadow',
        as: 'admin',
        schema: ShadowRequestSchema,
        valid: () => ({ version: null }),
      },
      {
        method: 'POST',
        path: '/api/v1/jobs',
        as: 'admin',
        schema: StartJobRequestSchema,
        valid: () => ({ reason: 'x' }),
      },
      {
        method: 'PUT',
        path: '/api/v1/settings/retrain',
        as: 'admin',
        schema: RetrainSettingsRequestSchema,
        valid: () => ({ autoOnAlert: false }),
      },
    ];
  });
  afterAll(async () => s?.close());

  async function counts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const t of TABLES) {
      const r = await s.deps.store.db
        .selectFrom(t)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      out[t] = Number(r.n);
    }
    return out;
  }

  async function send(route: Route, text: string): Promise<Response> {
    ip++;
    const token = route.as === 'admin' ? s.adminToken : route.as === 'device' ? deviceToken : null;
    return s.req(route.path.replace('VERSION', version), {
      method: route.method,
      token,
      body: text,
      headers: { 'content-type': 'application/json', 'x-forwarded-for': `10.0.${ip >> 8}.${ip & 255}` },
    });
  }

  const codes = new Set<string>(ERROR_CODES);
  const jsonBody = (route: () => Route) =>
    fc.oneof(
      fc.jsonValue({ maxDepth: 4 }),
      fc
        .tuple(fc.nat(), fc.jsonValue({ maxDepth: 3 }), fc.option(fc.string({ minLength: 1, maxLength: 8 })))
        .map(([pick, v, key]) => mutate(route().valid(), pick, v, key)),
    );

  it.each([
    '/api/v1/enroll',
    '/api/v1/admin/enrollment-codes',
    '/api/v1/devices/me/events',
    '/api/v1/logs',
    '/api/v1/outcomes',
    '/api/v1/models',
    '/api/v1/models/VERSION/canary',
    '/api/v1/rollout/shadow',
    '/api/v1/jobs',
    '/api/v1/settings/retrain',
  ])('%s', async (path) => {
    const route = () => routes.find((r) => r.path === path) as Route;
    // The valid sample is valid: the mutations start from a body the schema takes.
    expect(route().schema.safeParse(route().valid()).success).toBe(true);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          jsonBody(route)
            .filter((v) => !route().schema.safeParse(v).success)
            .map((v) => JSON.stringify(v)),
          fc.string({ maxLength: 40 }).filter((t) => {
            try {
              JSON.parse(t);
              return false;
            } catch {
              return true;
            }
          }),
        ),
        async (text) => {
          const before = await counts();
          const r = await send(route(), text);
          expect(r.status, text).toBeGreaterThanOrEqual(400);
          expect(r.status, text).toBeLessThan(500);
          const body = (await r.json()) as { error?: { code?: string } };
          expect(codes.has(body.error?.code ?? ''), `${r.status} ${JSON.stringify(body)}`).toBe(true);
          expect(await counts()).toEqual(before);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
