/**
 * The contract's endpoint table against the running app: the generated `/api/v1/openapi.json` lists every
 * table entry with its response schema and request body, and the answers
 * of a walk over the API parse against the table (the harness checks every 2xx JSON answer).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENDPOINT_LIST, ENDPOINTS } from '../../model/contract/index.ts';
import { checkedEndpoints } from '../../server/testing/contract-check.ts';
import { catalogueSongs, fixtureModel, makeLog } from '../../server/testing/fixtures.ts';
import { createTestServer, type TestServer } from '../../server/testing/harness.ts';

let s: TestServer;
let doc: { paths: Record<string, Record<string, Operation>> };

interface Operation {
  'x-role': string;
  security: unknown[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { content?: Record<string, { schema?: Record<string, unknown> }> }>;
}

beforeAll(async () => {
  s = await createTestServer();
  const r = await s.req('/api/v1/openapi.json', { token: null });
  expect(r.status).toBe(200);
  doc = (await r.json()) as typeof doc;
});
afterAll(async () => s.close());

describe('the generated OpenAPI document', () => {
  it('lists every table entry with its role, request body and a response schema', () => {
    for (const e of ENDPOINT_LIST) {
      const op = doc.paths[e.path]?.[e.method];
      expect(op, `${e.method} ${e.path}`).toBeDefined();
      if (!op) continue;
      expect(op['x-role']).toBe(e.deviceOnly ? 'device-only' : e.role);
      expect(op.security.length).toBe(e.role === 'public' ? 0 : 1);
      const ok = op.responses[String(e.response.status)];
      const schema = ok?.content?.[e.response.contentType ?? 'application/json']?.schema;
      expect(schema, `${e.method} ${e.path} response schema`).toBeDefined();
      expect(Object.keys(schema ?? {}).length, `${e.method} ${e.path} response schema`).toBeGreaterThan(0);
      if (e.body) expect(op.requestBody?.content[e.body.contentType]?.schema, `${e.path} body`).toBeDefined();
      if (e.errors.length > 0) expect(op.responses['4XX'], `${e.path} errors`).toBeDefined();
    }
  });

  it('describes object answers field by field (no prose-only responses)', () => {
    const overview = doc.paths[ENDPOINTS.overview.path]?.get?.responses['200']?.content?.['application/json']?.schema;
    expect(Object.keys((overview?.properties as Record<string, unknown>) ?? {})).toEqual(
      expect.arrayContaining(['logsPerVersion', 'devices', 'outcomes', 'chartOutcomes', 'openAlerts', 'rollout']),
    );
  });
});

describe('answers match the table', () => {
  it('a walk over the API answers what the table says (checked by the harness on every call)', async () => {
    const v = await s.publish(await fixtureModel({ salt: 'contract' }));
    await s.req(`/api/v1/models/${v}/promote`, { method: 'POST' });
    const device = await s.enroll('dev-contract');
    const csv =
      'spotify_id,name,artists,is_explicit,duration_ms,danceability,energy,key,loudness,mode,speechiness,acousticness,instrumentalness,liveness,valence,tempo\n' +
      's1,One,A,TRUE,200000,0.5,0.5,1,-5,1,0.1,0.1,0,0.1,0.5,120\n';
    await s.req('/api/v1/catalogue', { method: 'PUT', headers: { 'content-type': 'text/csv' }, body: csv });
    const song = catalogueSongs()[0];
    if (!song) throw new Error('no catalogue');
    const calls: [string, { method?: string; token?: string | null; json?: unknown }][] = [
      ['/healthz', { token: null }],
      ['/api/v1/admin/devices', {}],
      ['/api/v1/devices/me', { token: device }],
      ['/api/v1/assignment', { token: device }],
      ['/api/v1/catalogue', { token: device }],
      [
        '/api/v1/logs',
        { token: device, json: { logs: [makeLog(song, { deviceId: 'dev-contract', modelVersion: v })] } },
      ],
      ['/api/v1/models', {}],
      [`/api/v1/models/${v}`, {}],
      [`/api/v1/models/${v}/manifest.json`, { token: device }],
      ['/api/v1/rollout', {}],
      ['/api/v1/audit', {}],
      ['/api/v1/jobs', {}],
      ['/api/v1/settings/retrain', {}],
      ['/api/v1/retraining/chains', {}],
      [`/api/v1/drift/report?version=${v}`, {}],
      [`/api/v1/drift/timeseries?version=${v}`, {}],
      [`/api/v1/performance?version=${v}`, {}],
      [`/api/v1/shadow?version=${v}`, {}],
      ['/api/v1/alerts', {}],
      ['/api/v1/alerts/evaluate', { method: 'POST' }],
      ['/api/v1/overview', {}],
      ['/api/v1/admin/device-events', {}],
    ];
    for (const [path, init] of calls) {
      const r = await s.req(path, init);
      expect(r.status, path).toBeLessThan(300);
    }
    for (const name of [
      'healthz',
      'listDevices',
      'ownDevice',
      'assignment',
      'catalogue',
      'replaceCatalogue',
      'uploadLogs',
      'listModels',
      'getModel',
      'modelManifest',
      'rollout',
      'audit',
      'listJobs',
      'retrainSettings',
      'retrainChains',
      'driftReport',
      'driftTimeseries',
      'performance',
      'shadowReport',
      'alerts',
      'evaluateAlerts',
      'overview',
      'listDeviceEvents',
      'enroll',
      'createEnrollmentCode',
      'publishModel',
      'promote',
    ] as const) {
      expect(checkedEndpoints.has(name), name).toBe(true);
    }
  });
});
