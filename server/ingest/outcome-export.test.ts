import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { featureFingerprint, toVector } from '../../model/contract/index.ts';
import { catalogueSongs, fixtureModel, makeLog } from '../testing/fixtures.ts';
import { createTestServer, type TestServer } from '../testing/harness.ts';

let s: TestServer;
beforeAll(async () => {
  s = await createTestServer();
});
afterAll(async () => s.close());

const outcome = (song: { songId?: string; fingerprint?: string }, charted: boolean) => ({
  id: uuidv7(),
  song,
  country: 'DE',
  charted,
  date: '2026-11-20',
  source: 'device' as const,
  recordedAt: new Date().toISOString(),
});

describe('GET /api/v1/outcomes/export', () => {
  it('joins features from the catalogue by id, else from logged inputs by fingerprint; null when unknown', async () => {
    const [inCatalogue, onlyLogged] = catalogueSongs().slice(0, 2) as [
      ReturnType<typeof catalogueSongs>[number],
      ReturnType<typeof catalogueSongs>[number],
    ];
    const csv = `spotify_id,name,artists,${Object.keys(inCatalogue.features).join(',')}\n${inCatalogue.id},a,b,${Object.values(
      inCatalogue.features,
    )
      .map((v) => (typeof v === 'boolean' ? (v ? 'TRUE' : 'FALSE') : v))
      .join(',')}\n`;
    expect(
      (await s.req('/api/v1/catalogue', { method: 'PUT', body: csv, headers: { 'content-type': 'text/csv' } })).status,
    ).toBe(200);
    const token = await s.enroll('dev-export');
    // A song typed in by hand on the device: no catalogue id, known by its fingerprint.
    const log = makeLog(onlyLogged.features, { deviceId: 'dev-export', modelVersion: 'vnone' });
    const fp = featureFingerprint(onlyLogged.features);
    const version = await s.publish(await fixtureModel({ salt: 'export' }));
    expect((await s.req('/api/v1/logs', { token, json: { logs: [{ ...log, modelVersion: version }] } })).status).toBe(
      200,
    );
    const outcomes = [
      outcome({ songId: inCatalogue.id }, true),
      outcome({ fingerprint: fp }, false),
      outcome({ songId: 'nowhere' }, true),
    ];
    expect((await s.req('/api/v1/outcomes', { token, json: { outcomes } })).status).toBe(200);

    const r = await s.req('/api/v1/outcomes/export');
    expect(r.status).toBe(200);
    const lines = (await r.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; features: number[] | null; charted: boolean });
    const byId = new Map(lines.map((l) => [l.id, l]));
    expect(byId.get(outcomes[0]?.id as string)?.features).toEqual(toVector(inCatalogue.features));
    expect(byId.get(outcomes[1]?.id as string)?.features).toEqual(toVector(onlyLogged.features));
    expect(byId.get(outcomes[1]?.id as string)?.charted).toBe(false);
    expect(byId.get(outcomes[2]?.id as string)?.features).toBeNull();

    expect((await s.req('/api/v1/outcomes/export?since=2026-11-21')).status).toBe(200);
    expect((await (await s.req('/api/v1/outcomes/export?since=2026-11-21')).text()).trim()).toBe('');
    expect((await s.req('/api/v1/outcomes/export?since=yesterday')).status).toBe(400);
    expect((await s.req('/api/v1/outcomes/export', { token })).status).toBe(403);
  });
});
