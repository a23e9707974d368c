import Papa from 'papaparse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, type TestServer } from '../testing/harness.ts';
import { auditCsv } from './audit.ts';

let s: TestServer;
beforeAll(async () => {
  s = await createTestServer();
});
afterAll(async () => s.close());

describe('audit log export', () => {
  it('CSV keeps details with commas, quotes and newlines intact in one cell', () => {
    const details = { note: 'a, "quoted"\nline', n: 3 };
    const csv = auditCsv([{ id: '1', at: '2026-01-01T00:00:00Z', actor: 'admin', action: 'promote', details }]);
    const parsed = Papa.parse<Record<string, string>>(csv.trim(), { header: true });
    expect(parsed.data).toHaveLength(1);
    expect(parsed.data[0]?.action).toBe('promote');
    expect(JSON.parse(parsed.data[0]?.details as string)).toEqual(details);
  });

  it('records enrollment codes, enrollments, token issue and revocation with actor and time; filters; CSV and JSON', async () => {
    await s.enroll('dev-audit-1');
    const revoke = await s.req('/api/v1/admin/devices/dev-audit-1/revoke', { method: 'POST' });
    expect(revoke.status).toBe(200);
    const all = (await (await s.req('/api/v1/audit')).json()) as {
      entries: { actor: string; action: string; at: string }[];
    };
    const actions = all.entries.map((e) => `${e.actor}:${e.action}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        'admin:enrollment-code',
        'device:dev-audit-1:enroll',
        'server:device-token-issue',
        'admin:revoke-device',
      ]),
    );
    expect(all.entries.every((e) => !Number.isNaN(Date.parse(e.at)))).toBe(true);
    const only = (await (await s.req('/api/v1/audit?action=enroll')).json()) as { entries: { action: string }[] };
    expect(only.entries.map((e) => e.action)).toEqual(['enroll']);
    const csv = await s.req('/api/v1/audit?format=csv');
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    expect(csv.headers.get('content-disposition')).toMatch(/attachment; filename="jukebox-audit-.*\.csv"/);
    const rows = Papa.parse<Record<string, string>>((await csv.text()).trim(), { header: true }).data;
    expect(rows.length).toBe(all.entries.length);
    expect((await s.req('/api/v1/audit?format=xml')).status).toBe(422);
    expect((await s.req('/api/v1/audit', { token: await s.enroll('dev-audit-2') })).status).toBe(403);
  });
});
