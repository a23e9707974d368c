/**
 * Retraining from the field, as an admin runs it: `npm run pipeline --
 * --from-server <url> --token … --data base.csv --publish` against a server
 * (in process, on a loopback port) that holds a signed production model, a
 * catalogue and chart outcomes for songs the base file does not have. The
 * candidate is trained on the union, gated against the server's production
 * model on held-out songs and recent outcomes, signed and published; with an
 * impossible gate nothing is published.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Manifest, ManifestSchema } from '../../model/contract/index.ts';
import { runPipelineCli, syntheticCharts, toCsv } from '../../model/pipeline/fixtures.ts';
import { createTestServer, type TestServer } from '../../server/testing/harness.ts';
import { FAST, labelKeys, listen, publishProduction, putCatalogue, trainSigned } from './support/field-server.ts';

let dir: string;
let server: TestServer;
let http: { url: string; close: () => Promise<void> };
let keyDir: string;
let baseCsv: string;
let production: string;
let expectedSongs: number;
const today = new Date().toISOString().slice(0, 10);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pipeline-from-server-'));
  const keys = await labelKeys(dir);
  keyDir = keys.keyDir;
  const rows = syntheticCharts({ songs: 520, seed: 11 });
  const songIds = [...new Set(rows.map((r) => String(r.spotify_id)))];
  const baseSongs = new Set(songIds.slice(0, 320));
  const base = rows.filter((r) => baseSongs.has(String(r.spotify_id)));
  const field = rows.filter((r) => !baseSongs.has(String(r.spotify_id)));
  baseCsv = join(dir, 'base.csv');
  await writeFile(baseCsv, toCsv(base));
  expectedSongs = new Set(rows.filter((r) => r.country !== '').map((r) => String(r.spotify_id))).size;

  production = await trainSigned(baseCsv, join(dir, 'production'), keyDir, join(dir, 'runs'));
  server = await createTestServer({ config: { labelPublicKeyFile: keys.publicKeyFile } });
  await publishProduction(server, join(dir, 'production'));
  // The catalogue knows every song (the outcomes name songs by id); the chart upload covers only the field songs.
  await putCatalogue(server, toCsv(rows));
  const up = await server.req(`/api/v1/outcomes/chart-csv?date=${today}`, {
    body: toCsv(field),
    headers: { 'content-type': 'text/csv' },
  });
  expect(up.status).toBe(200);
  // A field "did not chart" for a song and country the base file says it charted in: it must remove nothing.
  const charted = base.find((r) => r.country !== '') as (typeof base)[number];
  const neg = await server.req('/api/v1/outcomes', {
    json: {
      outcomes: [
        {
          id: '0190aaaa-0000-7000-8000-000000000001',
          song: { songId: String(charted.spotify_id) },
          country: charted.country,
          charted: false,
          date: today,
          source: 'chart-upload',
          recordedAt: new Date().toISOString(),
        },
      ],
    },
  });
  expect(neg.status).toBe(200);
  http = await listen(server);
}, 120_000);

afterAll(async () => {
  await http?.close();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Retrain from the test server and publish, recording runs in `runsDir`. */
const publishArgs = (runsDir: string) => [
  '--from-server',
  http.url,
  // `=` form: a random token may start with '-', which parseArgs would read as an option.
  `--token=${server.adminToken}`,
  ...['--data', baseCsv, '--publish', '--key-dir', keyDir, '--runs-dir', runsDir],
];

describe('pipeline --from-server', () => {
  it('exports outcomes with the songs’ features (NDJSON), admin only', async () => {
    const r = await fetch(`${http.url}/api/v1/outcomes/export`, {
      headers: { authorization: `Bearer ${server.adminToken}` },
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/ndjson/);
    const lines = (await r.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { features: number[] | null; charted: boolean });
    expect(lines.length).toBeGreaterThan(1000);
    expect(lines.every((l) => Array.isArray(l.features) && l.features.length === 13)).toBe(true);
    expect(lines.some((l) => l.charted) && lines.some((l) => !l.charted)).toBe(true);
    const device = await server.enroll('device-export-1');
    const denied = await fetch(`${http.url}/api/v1/outcomes/export`, {
      headers: { authorization: `Bearer ${device}` },
    });
    expect(denied.status).toBe(403);
  });

  it('trains on files + field outcomes, gates against the server’s production model, publishes a signed candidate', async () => {
    const exportSha = createHash('sha256')
      .update(
        Buffer.from(
          await (
            await fetch(`${http.url}/api/v1/outcomes/export`, {
              headers: { authorization: `Bearer ${server.adminToken}` },
            })
          ).arrayBuffer(),
        ),
      )
      .digest('hex');
    const runs = join(dir, 'runs-a');
    const r = await runPipelineCli([
      ...publishArgs(runs),
      '--no-cache',
      '--recent-min-pairs',
      '20',
      '--gate-tolerance',
      '0.2',
      ...FAST,
    ]);
    expect(r.stderr).toMatch(/from server: \d+ outcomes \(0 without known features\)/);
    expect(r.stderr).toMatch(new RegExp(`targets: ${expectedSongs} songs`));
    expect(r.stderr).toMatch(new RegExp(`gate: pass: macro AUC .* vs production ${production}`));
    expect(r.stderr).toMatch(/gate: pass: recent outcomes: AUC \d\.\d{4} vs production \d\.\d{4} on \d+ pairs/);
    expect(r.code, r.stderr).toBe(0);
    const m = /published candidate (v[0-9a-f]{12}) to /.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    const version = m?.[1] as string;

    const detail = await server.req(`/api/v1/models/${version}`);
    expect(detail.status).toBe(200);
    const d = (await detail.json()) as { stage: string; manifest: Manifest };
    expect(d.stage).toBe('candidate');
    const manifest = ManifestSchema.parse(d.manifest);
    expect(manifest.signature?.algorithm).toBe('ECDSA-P256-SHA256');
    expect(manifest.lineage.parent).toBe(production);
    const sources = manifest.lineage.sources ?? [];
    expect(sources.map((s) => s.kind)).toEqual(['file', 'server-export']);
    expect(sources[0]?.sha256).toBe(
      createHash('sha256')
        .update(await readFile(baseCsv))
        .digest('hex'),
    );
    expect(sources[1]?.sha256).toBe(exportSha);
    expect(sources[1]?.url).toBe(`${http.url}/api/v1/outcomes/export`);
    const audit = (await (await server.req('/api/v1/audit?action=publish')).json()) as {
      entries: { actor: string; details: { version: string } }[];
    };
    expect(audit.entries.some((e) => e.details.version === version && e.actor === 'admin')).toBe(true);
  });

  it('publishes nothing when the candidate does not pass the gate', async () => {
    const before = ((await (await server.req('/api/v1/models')).json()) as { models: unknown[] }).models.length;
    const r = await runPipelineCli([
      ...publishArgs(join(dir, 'runs-b')),
      '--no-cache',
      '--quiet',
      // Must beat production by a full AUC point of 1.0: impossible.
      '--gate-tolerance=-1',
      ...FAST,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/pipeline stopped: gate-failed/);
    expect(r.stdout).not.toMatch(/published candidate/);
    const after = ((await (await server.req('/api/v1/models')).json()) as { models: unknown[] }).models.length;
    expect(after).toBe(before);
  });

  it('refuses without an admin token', async () => {
    const r = await runPipelineCli(['--from-server', http.url, '--token', 'x'.repeat(40), '--quiet', '--no-cache']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/could not read from .*401/);
  });
});
