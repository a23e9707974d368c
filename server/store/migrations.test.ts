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

describe('migration 007 (prediction days)', () => {
  it('fills the latest prediction of each day per song id and per fingerprint from the stored logs, and drops the two logs indexes', async () => {
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new SQLite(':memory:') }) });
    const m = migrator(db, 'sqlite');
    expect((await m.migrateTo('006-drift-window-index')).error).toBeUndefined();
    const log = (id: string, song: string | null, fp: string, at: string, source: string, traffic: string | null) =>
      sql`INSERT INTO logs (id, device_id, model_version, backend, latency_ms, created_at, day, received_at, source,
            song_id, fingerprint, inputs, outputs, shadow, traffic)
          VALUES (${id}, 'd1', 'v1', 'wasm', 1, ${at}, ${at.slice(0, 10)}, ${at}, ${source}, ${song}, ${fp},
            x'00', ${Buffer.from(id)}, null, ${traffic})`.execute(db);
    await log('01', 'songA', 'fp1', '2026-05-01T10:00:00Z', 'catalogue', 'interactive');
    await log('02', 'songA', 'fp2', '2026-05-01T12:00:00Z', 'catalogue', 'interactive'); // later: wins for songA
    await log('03', 'songA', 'fp1', '2026-05-01T09:00:00Z', 'catalogue', 'interactive'); // sent later, older
    await log('04', 'songA', 'fp1', '2026-05-02T08:00:00Z', 'batch', null); // kind from the source, other day
    await log('05', 'songA', 'fp1', '2026-05-02T08:00:00Z', 'batch', 'batch'); // tie: the greater id
    await log('06', null, 'fp3', '2026-05-01T11:00:00Z', 'manual', null);
    expect((await m.migrateTo('007-prediction-days')).error).toBeUndefined();
    const rows = await sql<{ match_key: string; kind: string; day: string; created_at: string; outputs: Buffer }>`
      SELECT match_key, kind, day, created_at, outputs FROM prediction_days
      WHERE model_version = 'v1' ORDER BY match_key, kind, day`.execute(db);
    expect(rows.rows.map((r) => [r.match_key, r.kind, r.day, r.created_at, Buffer.from(r.outputs).toString()])).toEqual(
      [
        ['f:fp1', 'batch', '2026-05-02', '2026-05-02T08:00:00Z', '05'],
        ['f:fp1', 'interactive', '2026-05-01', '2026-05-01T10:00:00Z', '01'],
        ['f:fp2', 'interactive', '2026-05-01', '2026-05-01T12:00:00Z', '02'],
        ['f:fp3', 'interactive', '2026-05-01', '2026-05-01T11:00:00Z', '06'],
        ['s:songA', 'batch', '2026-05-02', '2026-05-02T08:00:00Z', '05'],
        ['s:songA', 'interactive', '2026-05-01', '2026-05-01T12:00:00Z', '02'],
      ],
    );
    const indexes = await sql<{ name: string }>`
      SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'logs' ORDER BY name`.execute(db);
    expect(indexes.rows.map((r) => r.name)).not.toContain('logs_version_song');
    expect(indexes.rows.map((r) => r.name)).not.toContain('logs_version_fingerprint');
    await db.destroy();
  });
});

describe('migration 008 (prediction days name their log)', () => {
  it('rebuilds each day from the stored logs with the id of the log that made it instead of a copy of its outputs', async () => {
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new SQLite(':memory:') }) });
    const m = migrator(db, 'sqlite');
    expect((await m.migrateTo('007-prediction-days')).error).toBeUndefined();
    const log = (id: string, song: string | null, fp: string, at: string) =>
      sql`INSERT INTO logs (id, device_id, model_version, backend, latency_ms, created_at, day, received_at, source,
            song_id, fingerprint, inputs, outputs, shadow, traffic)
          VALUES (${id}, 'd1', 'v1', 'wasm', 1, ${at}, ${at.slice(0, 10)}, ${at}, 'catalogue', ${song}, ${fp},
            x'00', ${Buffer.from(id)}, null, 'interactive')`.execute(db);
    await log('01', 'songA', 'fp1', '2026-05-01T10:00:00Z');
    await log('02', 'songA', 'fp2', '2026-05-01T12:00:00Z'); // later: wins for songA
    await log('03', 'songA', 'fp1', '2026-05-01T10:00:00Z'); // tie with 01 for fp1: the greater id
    await log('04', null, 'fp3', '2026-05-02T11:00:00Z');
    expect((await m.migrateToLatest()).error).toBeUndefined();
    const rows = await sql<{ match_key: string; day: string; created_at: string; outputs: Buffer }>`
      SELECT d.match_key, d.day, d.created_at, l.outputs FROM prediction_days d JOIN logs l ON l.id = d.log_id
      WHERE d.model_version = 'v1' ORDER BY d.match_key, d.day`.execute(db);
    expect(rows.rows.map((r) => [r.match_key, r.day, r.created_at, Buffer.from(r.outputs).toString()])).toEqual([
      ['f:fp1', '2026-05-01', '2026-05-01T10:00:00Z', '03'],
      ['f:fp2', '2026-05-01', '2026-05-01T12:00:00Z', '02'],
      ['f:fp3', '2026-05-02', '2026-05-02T11:00:00Z', '04'],
      ['s:songA', '2026-05-01', '2026-05-01T12:00:00Z', '02'],
    ]);
    const columns = await sql<{ name: string }>`SELECT name FROM pragma_table_info('prediction_days')`.execute(db);
    expect(columns.rows.map((r) => r.name)).not.toContain('outputs');
    await db.destroy();
  });
});
