/**
 * Rollout across a fleet, at the HTTP level: 200 devices enrolled the real
 * way (each from its own address), a 20 % canary with an equal control
 * group that stays the same across a server restart, promote and rollback
 * taking effect at each device's next assignment check, shadow agreement
 * reported from the devices' own logs, and device-reported update events.
 * (server-routes.test.ts covers the registry routes' validation and audit.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Assignment, AssignmentSchema, type DeviceEvent } from '../../model/contract/index.ts';
import { catalogueSongs, fixtureModel, makeLog } from '../../server/testing/fixtures.ts';
import { createTestServer, type TestServer } from '../../server/testing/harness.ts';

const DEVICES = 200;
let dataDir: string;
let s: TestServer;
let v1: string;
let v2: string;
let v3: string;
const tokens = new Map<string, string>();

const boot = () => createTestServer({ config: { dataDir } });

/** Enrolls like a phone would: a fresh one-time code, from the device's own network address. */
async function enroll(server: TestServer, deviceId: string, i: number): Promise<string> {
  const code = (await (await server.req('/api/v1/admin/enrollment-codes', { method: 'POST' })).json()) as {
    code: string;
  };
  const r = await server.app.request(
    '/api/v1/enroll',
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: code.code, deviceId }),
    },
    { incoming: { socket: { remoteAddress: `10.20.${i >> 8}.${i & 255}`, remoteFamily: 'IPv4', remotePort: 4000 } } },
  );
  if (r.status !== 201) throw new Error(`enroll ${deviceId}: ${r.status} ${await r.text()}`);
  return ((await r.json()) as { token: string }).token;
}

async function assignments(server: TestServer): Promise<Map<string, Assignment>> {
  const out = new Map<string, Assignment>();
  for (const [id, token] of tokens) {
    const r = await server.req('/api/v1/assignment', { token });
    expect(r.status).toBe(200);
    out.set(id, AssignmentSchema.parse(await r.json()));
  }
  return out;
}

const count = (m: Map<string, Assignment>, cohort: Assignment['cohort']) =>
  [...m.values()].filter((a) => a.cohort === cohort).length;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'jukebox-rollout-'));
  s = await boot();
  v1 = await s.publish(await fixtureModel({ salt: 'p' }));
  await s.req(`/api/v1/models/${v1}/promote`, { method: 'POST' });
  v2 = await s.publish(await fixtureModel({ salt: 'q', parent: v1 }));
  v3 = await s.publish(await fixtureModel({ salt: 'r', parent: v1 }));
  for (let i = 0; i < DEVICES; i++) {
    const id = `dev_field_${String(i).padStart(3, '0')}`;
    tokens.set(id, await enroll(s, id, i));
  }
});

afterAll(async () => {
  await s?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('rollout to 200 enrolled devices', () => {
  let before: Map<string, Assignment>;

  it('a 20 % canary reaches about 20 % of devices, with a control group of equal size', async () => {
    const c = await s.req(`/api/v1/models/${v2}/canary`, { json: { percent: 20 } });
    expect(c.status).toBe(200);
    before = await assignments(s);
    const canary = count(before, 'canary');
    const control = count(before, 'control');
    // Binomial(200, 0.2): mean 40, sd 5.7; these bounds are ±2.6 sd.
    expect(canary).toBeGreaterThanOrEqual(25);
    expect(canary).toBeLessThanOrEqual(55);
    expect(control).toBeGreaterThanOrEqual(25);
    expect(control).toBeLessThanOrEqual(55);
    // Both groups are the same width of the hash range; their difference has sd 8.9 (multinomial), bound ±2.8 sd.
    expect(Math.abs(canary - control)).toBeLessThanOrEqual(25);
    for (const a of before.values()) expect(a.active).toBe(a.cohort === 'canary' ? v2 : v1);
    console.log(`canary ${canary}/${DEVICES}, control ${control}/${DEVICES}`);
  });

  it('every device keeps its group and its token across a server restart', async () => {
    await s.close();
    s = await boot();
    const after = await assignments(s);
    for (const [id, a] of before) {
      expect(after.get(id)?.cohort, id).toBe(a.cohort);
      expect(after.get(id)?.active, id).toBe(a.active);
    }
  });

  it('promote and rollback take effect at each device’s next assignment check', async () => {
    expect((await s.req(`/api/v1/models/${v2}/promote`, { method: 'POST' })).status).toBe(200);
    const promoted = await assignments(s);
    expect([...promoted.values()].every((a) => a.active === v2 && a.cohort === 'production')).toBe(true);
    expect((await s.req('/api/v1/rollout/rollback', { method: 'POST' })).status).toBe(200);
    const rolledBack = await assignments(s);
    expect([...rolledBack.values()].every((a) => a.active === v1 && a.cohort === 'production')).toBe(true);
  });

  it('reports shadow agreement from the logs devices send with both models’ outputs', async () => {
    const sh = await s.req('/api/v1/rollout/shadow', { method: 'PUT', json: { version: v3 } });
    expect(sh.status).toBe(200);
    const assigned = await assignments(s);
    expect([...assigned.values()].every((a) => a.shadow === v3)).toBe(true);
    const songs = catalogueSongs().slice(0, 60);
    const day = '2026-05-06T09:00:00Z';
    let agree = 0;
    let total = 0;
    const ids = [...tokens.keys()].slice(0, 20);
    for (const [k, id] of ids.entries()) {
      const logs = songs.slice(k * 3, k * 3 + 3).map((song, j) => {
        const l = makeLog(song, { deviceId: id, modelVersion: v1, createdAt: day });
        // Every third shadow answer puts a different country first.
        const differ = (k + j) % 3 === 0;
        const lowest = l.outputs.indexOf(Math.min(...l.outputs));
        const outputs = differ ? l.outputs.map((p, c) => (c === lowest ? 1 : p / 2)) : l.outputs;
        total++;
        if (!differ) agree++;
        return { ...l, shadow: { modelVersion: v3, outputs, latencyMs: 1.5 } };
      });
      const r = await s.req('/api/v1/logs', { token: tokens.get(id)!, json: { logs } });
      expect(r.status).toBe(200);
    }
    const r = await s.req(`/api/v1/shadow?version=${v1}&from=2026-05-06&to=2026-05-06`);
    expect(r.status).toBe(200);
    const body = (await r.json()) as { shadows: { shadow: string; summary: { n: number; top1Agreement: number } }[] };
    const mine = body.shadows.find((x) => x.shadow === v3);
    expect(mine?.summary.n).toBe(total);
    expect(mine?.summary.top1Agreement).toBeCloseTo(agree / total, 6);
  });

  it('stores each device’s update events once and lists them for admins only', async () => {
    const [id, token] = [...tokens][0]!;
    const event = (kind: DeviceEvent['kind'], code?: string): DeviceEvent => ({
      id: uuidv7(),
      kind,
      version: v2,
      ...(code ? { code } : {}),
      at: new Date().toISOString(),
    });
    const events = [event('model-refused', 'hash-mismatch'), event('model-rolled-back', 'model-output-invalid')];
    for (let i = 0; i < 2; i++) {
      const r = await s.req('/api/v1/devices/me/events', { token, json: { events } });
      expect(r.status).toBe(200);
    }
    const bad = await s.req('/api/v1/devices/me/events', {
      token,
      json: { events: [{ ...event('model-refused'), kind: 'made-up' }] },
    });
    expect(bad.status).toBe(422);
    expect((await s.req('/api/v1/admin/device-events', { token })).status).toBe(403);
    expect((await s.req('/api/v1/devices/me/events', { json: { events } })).status).toBe(403);
    const list = (await (await s.req(`/api/v1/admin/device-events?deviceId=${id}`)).json()) as {
      events: { id: string; deviceId: string; kind: string; code?: string; version: string }[];
    };
    expect(list.events).toHaveLength(2);
    expect(list.events.map((e) => [e.kind, e.code]).sort()).toEqual([
      ['model-refused', 'hash-mismatch'],
      ['model-rolled-back', 'model-output-invalid'],
    ]);
    expect(list.events.every((e) => e.deviceId === id && e.version === v2)).toBe(true);
  });
});
