/**
 * The closed loop, automated end to end over HTTP: devices log drifted
 * predictions and the field reports outcomes; the alert evaluation raises a
 * drift alert; with auto-retraining switched on, the alert starts a job that
 * runs the real pipeline from the server (tiny training settings), which
 * publishes a signed candidate; the admin puts it in canary, a canary device
 * is assigned it while a control device is not, the admin promotes it, and
 * every device switches to it. The dashboard's chain API shows
 * alert → run → candidate → canary → promoted.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Features, parseFeatures, type RetrainChain, toVector } from '../../model/contract/index.ts';
import { syntheticCharts, toCsv } from '../../model/pipeline/fixtures.ts';
import { parseModelFiles, predictReference } from '../../model/runtime/dense-model.ts';
import { ThresholdsSchema } from '../../server/config.ts';
import type { JobView } from '../../server/jobs/job-runner.ts';
import { deviceBucket } from '../../server/registry/registry.ts';
import { makeLog } from '../../server/testing/fixtures.ts';
import { createTestServer, type TestServer } from '../../server/testing/harness.ts';
import { adminScreenshots, dashboardBuild } from './support/admin-shots.ts';
import { FAST, labelKeys, listen, publishProduction, putCatalogue, trainSigned } from './support/field-server.ts';

let dir: string;
let server: TestServer;
let http: { url: string; close: () => Promise<void> };
let production: string;
const devices: { id: string; token: string }[] = [];
let fieldSongs: [string, Features][] = [];
const webDist = dashboardBuild();
const today = new Date().toISOString().slice(0, 10);
const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

async function json<T>(path: string, init?: Parameters<TestServer['req']>[1]): Promise<T> {
  const r = await server.req(path, init);
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

/** What a device sees: GET /api/v1/assignment with its own token, over the network like the app. */
async function assigned(token: string): Promise<{ active: string; cohort: string }> {
  const r = await fetch(`${http.url}/api/v1/assignment`, { headers: { authorization: `Bearer ${token}` } });
  expect(r.status).toBe(200);
  return (await r.json()) as { active: string; cohort: string };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'closed-loop-'));
  const keys = await labelKeys(dir);
  const rows = syntheticCharts({ songs: 520, seed: 21 });
  const ids = [...new Set(rows.map((r) => String(r.spotify_id)))];
  const baseSongs = new Set(ids.slice(0, 320));
  const baseCsv = join(dir, 'base.csv');
  await writeFile(baseCsv, toCsv(rows.filter((r) => baseSongs.has(String(r.spotify_id)))));
  production = await trainSigned(baseCsv, join(dir, 'production'), keys.keyDir, join(dir, 'runs'));

  // The real pipeline, from this server, tiny settings; the runner supplies JUKEBOX_SERVER and a job token.
  const command = [
    sh(process.execPath),
    '--import tsx model/pipeline/cli.ts --from-server "$JUKEBOX_SERVER" --publish --quiet --no-cache',
    `--data ${sh(baseCsv)} --key-dir ${sh(keys.keyDir)} --runs-dir ${sh(join(dir, 'job-runs'))}`,
    '--gate-tolerance 0.2 --recent-min-pairs 20',
    ...FAST,
  ].join(' ');
  server = await createTestServer({
    config: {
      labelPublicKeyFile: keys.publicKeyFile,
      retrainCommand: command,
      retrainTimeoutS: 120,
      ...(webDist ? { webDist } : {}),
      thresholds: ThresholdsSchema.parse({
        psiWarn: 0.1,
        psiAlert: 0.25,
        ksPValue: 0.05,
        ksCorrection: 'holm',
        jsWarn: 0.1,
        jsAlert: 0.2,
        outputPsiWarn: 0.1,
        outputPsiAlert: 0.25,
        aucDropWarn: 0.05,
        aucDropAlert: 0.1,
        minDistinct: 50,
      }),
    },
  });
  await publishProduction(server, join(dir, 'production'));
  await putCatalogue(server, toCsv(rows));
  http = await listen(server);

  for (let i = 0; i < 24; i++) {
    const id = `field-device-${i}`;
    devices.push({ id, token: await server.enroll(id) });
  }
  // Drifted logs: the field songs, danceability +0.4, from the devices, predicted by production.
  const field = rows.filter((r) => !baseSongs.has(String(r.spotify_id)));
  const songs = new Map<string, Features>();
  for (const r of field) {
    const f = parseFeatures(r as unknown as Record<string, unknown>);
    if (f.ok) songs.set(String(r.spotify_id), f.value);
  }
  const list = [...songs];
  fieldSongs = list;
  for (const [d, dev] of devices.slice(0, 4).entries()) {
    const logs = list
      .filter((_, i) => i % 4 === d)
      .map(([id, features]) =>
        makeLog(
          { id, name: id, artists: '', features },
          { deviceId: dev.id, modelVersion: production, danceShift: 0.4 },
        ),
      );
    const r = await fetch(`${http.url}/api/v1/logs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${dev.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ logs }),
    });
    expect(r.status).toBe(200);
  }
  // Outcomes from the field: this week's charts for the field songs.
  const up = await server.req(`/api/v1/outcomes/chart-csv?date=${today}`, {
    body: toCsv(field),
    headers: { 'content-type': 'text/csv' },
  });
  expect(up.status).toBe(200);
}, 120_000);

afterAll(async () => {
  server?.deps.jobs.stop();
  await http?.close();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('closed loop: drift → alert → retraining job → signed candidate → canary → promoted → devices switch', () => {
  it('runs the whole loop', async () => {
    // Off by default: an admin switches it on.
    expect((await json<{ autoOnAlert: boolean }>('/api/v1/settings/retrain')).autoOnAlert).toBe(false);
    const on = await json<{ autoOnAlert: boolean; source: string }>('/api/v1/settings/retrain', {
      method: 'PUT',
      json: { autoOnAlert: true },
    });
    expect(on).toMatchObject({ autoOnAlert: true, source: 'setting' });

    // The alert.
    const open = (
      await json<{ open: { id: string; metric: string; feature: string | null; severity: string }[] }>(
        '/api/v1/alerts/evaluate',
        { method: 'POST' },
      )
    ).open;
    const alert = open.find((a) => a.metric === 'feature-drift' && a.feature === 'danceability');
    expect(alert?.severity).toBe('alert');

    // The job it started, run to the end by the runner.
    let job = (await json<{ jobs: JobView[] }>('/api/v1/jobs')).jobs[0];
    expect(job?.trigger).toBe('alert');
    expect(job?.alertId).toBe(open.find((a) => a.severity === 'alert')?.id);
    // One job at a time: while it is queued or running, another is refused.
    const again = await server.req('/api/v1/jobs', { method: 'POST' });
    expect(again.status).toBe(409);
    const deadline = Date.now() + 90_000;
    while (job && (job.status === 'queued' || job.status === 'running') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      job = await json<JobView>(`/api/v1/jobs/${job.id}`);
    }
    expect(job?.status, job?.logTail).toBe('succeeded');
    expect(job?.exitCode).toBe(0);
    expect(job?.logTail).toMatch(/published candidate v[0-9a-f]{12}/);
    const candidate = job?.candidateVersion as string;
    expect(candidate).toMatch(/^v[0-9a-f]{12}$/);
    expect(candidate).not.toBe(production);
    // The job's token died with the job.
    const tokens = await server.deps.store.db
      .selectFrom('tokens')
      .select('revoked_at')
      .where('subject', '=', `job:${job?.id}`)
      .execute();
    expect(tokens.length).toBe(1);
    expect(tokens[0]?.revoked_at).not.toBeNull();

    // The candidate is signed, with the server export in its lineage.
    const detail = await json<{
      stage: string;
      manifest: { signature?: unknown; lineage: { parent?: string; sources?: { kind: string }[] } };
    }>(`/api/v1/models/${candidate}`);
    expect(detail.stage).toBe('candidate');
    expect(detail.manifest.signature).toBeDefined();
    expect(detail.manifest.lineage.parent).toBe(production);
    expect(detail.manifest.lineage.sources?.map((s) => s.kind)).toEqual(['file', 'server-export']);

    // Shadow: devices run the candidate beside production on real inputs (outputs from both models' real files).
    await json('/api/v1/rollout/shadow', { method: 'PUT', json: { version: candidate } });
    const load = async (v: string) => {
      const { manifest } = await json<{ manifest: { files: { path: string }[] } }>(`/api/v1/models/${v}`);
      const files: Record<string, ArrayBuffer> = {};
      for (const f of manifest.files)
        files[f.path] = await (await server.req(`/api/v1/models/${v}/files/${f.path}`)).arrayBuffer();
      const m = parseModelFiles(files);
      if (!m.ok) throw new Error(`cannot load ${v}`);
      return m.value;
    };
    const [prodModel, candModel] = [await load(production), await load(candidate)];
    const shadowLogs = fieldSongs.slice(0, 120).map(([id, features]) => {
      const x = toVector(features);
      const log = makeLog(
        { id, name: id, artists: '', features },
        { deviceId: devices[0]?.id as string, modelVersion: production },
      );
      return {
        ...log,
        outputs: Array.from(predictReference(prodModel, x)),
        shadow: { modelVersion: candidate, outputs: Array.from(predictReference(candModel, x)), latencyMs: 0.9 },
      };
    });
    const sl = await fetch(`${http.url}/api/v1/logs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${devices[0]?.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ logs: shadowLogs }),
    });
    expect(sl.status).toBe(200);
    const shadows = (
      await json<{ shadows: { shadow: string; summary: { n: number; top1Agreement: number } }[] }>(
        `/api/v1/shadow?version=${production}`,
      )
    ).shadows;
    expect(shadows[0]?.shadow).toBe(candidate);
    expect(shadows[0]?.summary.n).toBe(120);
    expect(shadows[0]?.summary.top1Agreement).toBeGreaterThan(0);

    // Canary at 50 %: a device in the canary bucket runs the candidate, one in the control group does not.
    await json(`/api/v1/models/${candidate}/canary`, { json: { percent: 50 } });
    const canaryDevice = devices.find((d) => deviceBucket(d.id) < 50) as { id: string; token: string };
    const controlDevice = devices.find((d) => deviceBucket(d.id) >= 50) as { id: string; token: string };
    expect(await assigned(canaryDevice.token)).toMatchObject({ active: candidate, cohort: 'canary' });
    expect((await assigned(controlDevice.token)).active).toBe(production);

    // Promote: every device switches.
    await json(`/api/v1/models/${candidate}/promote`, { method: 'POST' });
    for (const d of devices) expect((await assigned(d.token)).active).toBe(candidate);

    // The chain the dashboard shows.
    const chains = (await json<{ chains: RetrainChain[] }>('/api/v1/retraining/chains')).chains;
    const chain = chains.find((c) => c.job.candidateVersion === candidate) as RetrainChain;
    expect(chain.outcome).toBe('promoted');
    expect(chain.steps.map((s) => s.step)).toEqual(['alert', 'run', 'candidate', 'canary', 'promoted']);

    // What the dashboard shows of it (when the admin page is built and Chromium is installed).
    if (webDist) {
      const errors = await adminScreenshots(http.url, server.adminToken, [
        {
          hash: 'retraining',
          waitFor: 'Started by an alert',
          name: 'admin-retraining',
          check: (t) => expect(t).toContain(candidate),
        },
        {
          hash: 'compare',
          waitFor: 'Shadow agreement',
          name: 'admin-compare',
          check: (t) => expect(t).toMatch(/ran in shadow beside/),
        },
        {
          hash: 'cards',
          waitFor: 'Use it for / not for',
          name: 'admin-cards',
          check: (t) => expect(t).toContain('field outcomes'),
        },
        {
          hash: 'audit',
          waitFor: 'device-token-issue',
          name: 'admin-audit',
          check: (t) => expect(t).toContain('retrain-finished'),
          act: async (page) => {
            const [download] = await Promise.all([
              page.waitForEvent('download'),
              page.getByRole('button', { name: 'Export CSV' }).click(),
            ]);
            expect(download.suggestedFilename()).toMatch(/^jukebox-audit-\d{4}-\d{2}-\d{2}\.csv$/);
            const text = await readFile((await download.path()) as string, 'utf8');
            expect(text.split('\n')[0]).toBe('id,at,actor,action,details');
            expect(text).toContain(',promote,');
          },
        },
      ]);
      expect(errors).toEqual([]);
    }

    // And the audit log has it all, exportable as CSV.
    const csv = await (await server.req('/api/v1/audit?format=csv&limit=1000')).text();
    for (const action of [
      'retrain-auto',
      'retrain-queued',
      'publish',
      'retrain-finished',
      'canary',
      'promote',
      'enroll',
      'device-token-issue',
      'enrollment-code',
    ])
      expect(csv).toContain(`,${action},`);
  });
});
