import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { migrator } from './migrations.ts';

describe('migration 004 (trust boundary)', () => {
  it('moves device events out of the audit log, keeps governance entries, and keeps the oldest active job', async () => {
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new SQLite(':memory:') }) });
    const m = migrator(db, 'sqlite');
    const to3 = await m.migrateTo('003-jobs-settings');
    expect(to3.error).toBeUndefined();
    const details = JSON.stringify({
      deviceId: 'd1',
      version: 'v1',
      code: 'hash-mismatch',
      receivedAt: '2026-12-01T00:00:01Z',
    });
    await sql`INSERT INTO audit (id, at, actor, action, details) VALUES
      ('0190a2b3-0000-7000-8000-000000000001', '2099-01-01T00:00:00Z', 'd1', 'device-model-refused', ${details}),
      ('0190a2b3-0000-7000-8000-000000000002', '2026-12-01T00:00:00Z', 'server', 'device-token-issue', '{}'),
      ('0190a2b3-0000-7000-8000-000000000003', '2026-12-01T00:00:00Z', 'admin', 'publish', '{}')`.execute(db);
    for (const id of ['j1', 'j2']) {
      await sql`INSERT INTO jobs (id, kind, status, trigger, requested_by, command, created_at, log_tail)
        VALUES (${id}, 'retrain', 'queued', 'manual', 'admin', 'true', '2026-12-01T00:00:00Z', '')`.execute(db);
    }
    const latest = await m.migrateToLatest();
    expect(latest.error).toBeUndefined();
    const audit = await sql<{ action: string }>`SELECT action FROM audit ORDER BY id`.execute(db);
    expect(audit.rows.map((r) => r.action)).toEqual(['device-token-issue', 'publish']);
    const events = await sql<{ device_id: string; kind: string; code: string; received_at: string }>`
      SELECT device_id, kind, code, received_at FROM device_events`.execute(db);
    expect(events.rows).toEqual([
      { device_id: 'd1', kind: 'model-refused', code: 'hash-mismatch', received_at: '2026-12-01T00:00:01Z' },
    ]);
    const jobs = await sql<{ id: string; status: string }>`SELECT id, status FROM jobs ORDER BY id`.execute(db);
    expect(jobs.rows).toEqual([
      { id: 'j1', status: 'queued' },
      { id: 'j2', status: 'failed' },
    ]);
    // From now on the store itself refuses a second active job.
    await expect(
      sql`INSERT INTO jobs (id, kind, status, trigger, requested_by, command, created_at, log_tail)
        VALUES ('j3', 'retrain', 'queued', 'manual', 'admin', 'true', '2026-12-01T00:00:00Z', '')`.execute(db),
    ).rejects.toThrow(/UNIQUE/);
    await db.destroy();
  });
});
