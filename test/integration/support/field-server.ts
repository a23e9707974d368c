/**
 * Shared set-up of the retraining tests: an in-process test server listening
 * on a loopback port (so subprocesses such as the pipeline CLI can reach it),
 * the label's key pair, and a production model trained by the real pipeline
 * on small synthetic charts, signed and promoted.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { createLabelKeys, PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, readJwk } from '../../../model/admin/label-keys.ts';
import { readModelDir, signModelDir } from '../../../model/admin/sign-model-dir.ts';
import { runPipelineCli } from '../../../model/pipeline/fixtures.ts';
import type { TestServer } from '../../../server/testing/harness.ts';

/**
 * Small, fast training settings: the point of these tests is the loop, not the quality. The single split
 * decides (no cross-validation), so the gate checks these tests read are the split's.
 */
export const FAST = [
  '--cv-folds',
  '0',
  '--hidden',
  '32',
  '--members',
  '1',
  '--max-epochs',
  '12',
  '--patience',
  '4',
  '--learning-rate',
  '0.01',
];

export async function listen(server: TestServer): Promise<{ url: string; close: () => Promise<void> }> {
  const http = serve({ fetch: server.app.fetch, port: 0, hostname: '127.0.0.1', createServer });
  await new Promise<void>((resolve) => (http.listening ? resolve() : http.once('listening', () => resolve())));
  const port = (http.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  server.deps.jobs.serverUrl = url;
  return {
    url,
    close: () => new Promise<void>((resolve) => http.close(() => resolve())),
  };
}

export async function labelKeys(dir: string): Promise<{ keyDir: string; publicKeyFile: string }> {
  const keyDir = join(dir, 'keys');
  await createLabelKeys(keyDir);
  return { keyDir, publicKeyFile: join(keyDir, PUBLIC_KEY_FILE) };
}

/** Trains a model on `csv` with the pipeline CLI into `out`, signs it with the label key. Returns its version. */
export async function trainSigned(csv: string, out: string, keyDir: string, runsDir: string): Promise<string> {
  const r = await runPipelineCli([
    '--data',
    csv,
    '--out',
    out,
    '--production',
    'none',
    '--no-cache',
    '--runs-dir',
    runsDir,
    '--quiet',
    ...FAST,
  ]);
  if (r.code !== 0) throw new Error(`training the production model failed:\n${r.stderr}`);
  const signed = await signModelDir(
    out,
    await readJwk(join(keyDir, PRIVATE_KEY_FILE)),
    await readJwk(join(keyDir, PUBLIC_KEY_FILE)),
  );
  return signed.version;
}

/** Publishes a model folder and makes it production. */
export async function publishProduction(server: TestServer, dir: string): Promise<string> {
  const { manifest, files } = await readModelDir(dir);
  const body = {
    manifest,
    files: Object.fromEntries([...files].map(([p, b]) => [p, Buffer.from(b).toString('base64')])),
  };
  const api = server.api();
  const r = await api.call('publishModel', { json: body });
  if (!r.ok || r.status !== 201) throw new Error(`publish: ${r.status} ${r.ok ? 'not new' : r.message}`);
  const p = await api.call('promote', { params: { version: manifest.version } });
  if (!p.ok) throw new Error(`promote: ${p.status} ${p.code}: ${p.message}`);
  return manifest.version;
}

/** Replaces the server's song catalogue with a CSV (as an admin uploads it); throws unless it is accepted. */
export async function putCatalogue(server: TestServer, csv: string): Promise<void> {
  const r = await server.req('/api/v1/catalogue', {
    method: 'PUT',
    body: csv,
    headers: { 'content-type': 'text/csv' },
  });
  if (r.status !== 200) throw new Error(`catalogue: ${r.status} ${await r.text()}`);
}
