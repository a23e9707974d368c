import { afterEach, describe, expect, it } from 'vitest';
import type { AlertView } from '../alerts/alert-service.ts';
import { createTestServer, type TestServer } from '../testing/harness.ts';
import type { JobView } from './job-runner.ts';
import { buildChain } from './retrain-chain.ts';

let server: TestServer | undefined;
afterEach(async () => {
  server?.deps.jobs.stop();
  await server?.close();
  server = undefined;
});

const alert = (severity: string): AlertView => ({
  id: `a-${severity}`,
  version: 'v1',
  metric: 'feature-drift',
  feature: 'danceability',
  severity,
  value: 0.4,
  threshold: 0.25,
  message: 'danceability: PSI 0.400',
  openedAt: new Date().toISOString(),
  updatedAt: new Date().toISOString(),
  resolvedAt: null,
  notifiedAt: null,
});

async function finished(s: TestServer, id: string): Promise<JobView> {
  await s.deps.jobs.idle();
  return (await s.deps.jobs.get(id)) as JobView;
}

describe('retraining job runner', () => {
  it('refuses to start or switch on without a configured command', async () => {
    server = await createTestServer();
    expect((await server.req('/api/v1/jobs', { method: 'POST' })).status).toBe(409);
    const r = await server.req('/api/v1/settings/retrain', { method: 'PUT', json: { autoOnAlert: true } });
    expect(r.status).toBe(409);
    expect(((await r.json()) as { error: { details: { problem: string } } }).error.details.problem).toMatch(
      /RETRAIN_COMMAND/,
    );
  });

  it('runs the command with the server URL and a job token that is revoked afterwards; keeps the output', async () => {
    server = await createTestServer({
      config: { retrainCommand: 'echo "server=$JUKEBOX_SERVER job=$JUKEBOX_JOB_ID"; test -n "$JUKEBOX_ADMIN_TOKEN"' },
    });
    server.deps.jobs.serverUrl = 'http://127.0.0.1:9';
    const r = await server.req('/api/v1/jobs', { method: 'POST' });
    expect(r.status).toBe(202);
    const job = (await r.json()) as JobView;
    expect(job.status).toBe('queued');
    const done = await finished(server, job.id);
    expect(done.status).toBe('succeeded');
    expect(done.exitCode).toBe(0);
    expect(done.logTail).toContain(`server=http://127.0.0.1:9 job=${job.id}`);
    expect(done.candidateVersion).toBeNull();
    const tokens = await server.deps.store.db
      .selectFrom('tokens')
      .select('revoked_at')
      .where('subject', '=', `job:${job.id}`)
      .execute();
    expect(tokens).toHaveLength(1);
    expect(tokens[0]?.revoked_at).not.toBeNull();
  });

  it('marks a failing command failed with its exit code and output, and kills one that runs too long', async () => {
    server = await createTestServer({ config: { retrainCommand: 'echo boom >&2; exit 3' } });
    const a = await server.deps.jobs.start({ trigger: 'manual', actor: 'admin' });
    const fa = await finished(server, a.id);
    expect(fa).toMatchObject({ status: 'failed', exitCode: 3 });
    expect(fa.logTail).toContain('boom');
    await server.close();

    server = await createTestServer({ config: { retrainCommand: 'sleep 30', retrainTimeoutS: 1 } });
    const t0 = Date.now();
    const b = await server.deps.jobs.start({ trigger: 'manual', actor: 'admin' });
    const fb = await finished(server, b.id);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(fb.status).toBe('failed');
    expect(fb.logTail).toMatch(/killed after 1 s/);
  });

  it('starts a job for a new alert only when switched on, only for alert severity, one at a time', async () => {
    server = await createTestServer({ config: { retrainCommand: 'sleep 0.3' } });
    const jobs = server.deps.jobs;
    expect(await jobs.onAlertsOpened([alert('alert')])).toBeNull(); // off by default
    await jobs.setAutoOnAlert(true, 'admin');
    expect(await jobs.onAlertsOpened([alert('warn')])).toBeNull();
    const started = await jobs.onAlertsOpened([alert('warn'), alert('alert')]);
    expect(started).toMatchObject({ trigger: 'alert', alertId: 'a-alert', requestedBy: 'alerts' });
    expect(await jobs.onAlertsOpened([alert('alert')])).toBeNull(); // busy: this episode does not queue a second
    await jobs.idle();
    expect((await jobs.list()).length).toBe(1);
    const audit = (await server.deps.registry.auditLog(50)).map((e) => e.action);
    expect(audit).toEqual(expect.arrayContaining(['retrain-auto', 'retrain-queued', 'retrain-finished']));
  });

  it('fails jobs a stopped server left running', async () => {
    server = await createTestServer({ config: { retrainCommand: 'true' } });
    await server.deps.store.db
      .insertInto('jobs')
      .values({
        id: '0190aaaa-0000-7000-8000-0000000000ff',
        kind: 'retrain',
        status: 'running',
        trigger: 'manual',
        alert_id: null,
        requested_by: 'admin',
        command: 'true',
        created_at: new Date().toISOString(),
        started_at: new Date().toISOString(),
        finished_at: null,
        exit_code: null,
        log_tail: '',
        candidate_version: null,
      })
      .execute();
    expect(await server.deps.jobs.recover()).toBe(1);
    expect((await server.deps.jobs.get('0190aaaa-0000-7000-8000-0000000000ff'))?.status).toBe('failed');
  });
});

describe('retraining chain', () => {
  const job: JobView = {
    id: 'j1',
    kind: 'retrain',
    status: 'succeeded',
    trigger: 'alert',
    alertId: 'a1',
    requestedBy: 'alerts',
    command: 'x',
    createdAt: '2026-01-01T00:00:00Z',
    startedAt: '2026-01-01T00:00:01Z',
    finishedAt: '2026-01-01T00:01:00Z',
    exitCode: 0,
    logTail: '',
    candidateVersion: 'vcand',
  };
  const e = (id: string, action: string, details: Record<string, unknown>) => ({
    id,
    at: '2026-01-01T00:02:00Z',
    actor: 'admin',
    action,
    details,
  });
  it('follows the candidate through canary to a rollback, ignoring other versions', () => {
    const c = buildChain(job, { openedAt: '2026-01-01T00:00:00Z', message: 'drift' }, [
      e('3', 'rollback-canary', { version: 'vcand' }),
      e('2', 'canary', { version: 'vcand', percent: 10 }),
      e('1', 'publish', { version: 'vcand', stage: 'candidate' }),
      e('0', 'promote', { version: 'vother' }),
    ]);
    expect(c.steps.map((s) => s.step)).toEqual(['alert', 'run', 'candidate', 'canary', 'rolled-back']);
    expect(c.outcome).toBe('rolled-back');
  });
  it('says when a run published nothing or failed', () => {
    expect(buildChain({ ...job, candidateVersion: null }, null, []).outcome).toBe('no-candidate');
    expect(buildChain({ ...job, status: 'failed', exitCode: 1, candidateVersion: null }, null, []).outcome).toBe(
      'failed',
    );
  });
});

const PG = process.env.TEST_DATABASE_URL;
if (!PG) console.warn('job-runner: PostgreSQL case SKIPPED (no TEST_DATABASE_URL; see .ci/postgres.sh)');
describe.skipIf(!PG)('retraining jobs on PostgreSQL', () => {
  it('stores settings, runs a job and answers the chain and audit export', async () => {
    server = await createTestServer({ postgresUrl: PG as string, config: { retrainCommand: 'echo pg-ok' } });
    await server.deps.jobs.setAutoOnAlert(true, 'admin');
    await server.deps.jobs.setAutoOnAlert(false, 'admin');
    expect(await server.deps.jobs.settings()).toMatchObject({ autoOnAlert: false, source: 'setting' });
    const job = await server.deps.jobs.start({ trigger: 'manual', actor: 'admin' });
    const done = await finished(server, job.id);
    expect(done).toMatchObject({ status: 'succeeded', exitCode: 0 });
    expect(done.logTail).toContain('pg-ok');
    const chains = (await (await server.req('/api/v1/retraining/chains')).json()) as { chains: { outcome: string }[] };
    expect(chains.chains[0]?.outcome).toBe('no-candidate');
    const csv = await (await server.req('/api/v1/audit?format=csv')).text();
    expect(csv).toContain(',retrain-finished,');
    expect((await server.req('/api/v1/outcomes/export')).status).toBe(200);
  });
});
