/**
 * Signed model updates end to end: the built app served by the real server
 * (a child process with LABEL_PUBLIC_KEY_FILE set to a key made here), the
 * device enrolled through the UI (which pins the label's key). Tampered
 * downloads — one byte of the weights, a changed manifest field, a manifest
 * signed by another key, a truncated file — are served in transit by
 * Playwright's `page.route` (the server itself refuses to publish them) and
 * must each be refused, shown and reported while the running model stays.
 * A genuine candidate is offered, activated on "Use it now" and logged; a
 * shadow candidate runs beside it and its agreement reaches the server; the
 * drift check warns on shifted songs; the model card shows. Screenshots go
 * to test/artifacts/screens/update-*.png.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentVersion, sha256Hex } from '../../model/contract/canonical.ts';
import type { Features } from '../../model/contract/features.ts';
import type { Manifest } from '../../model/contract/manifest.ts';
import { parseModelFiles, predictReference } from '../../model/runtime/dense-model.ts';
import { generateLabelKeyPair, type LabelKeyPair, signManifest } from '../../model/signing/manifest-signature.ts';
import { catalogueSongs } from '../../server/testing/fixtures.ts';
import { type SpawnedServer, spawnServer } from '../../server/testing/spawn-server.ts';
import { DEFAULT_MODEL_DIR, freePort } from '../chaos/server-process.ts';
import { launchChromium } from './browser.ts';
import { poll, predictFromForm, readLogs, screenshot, waitReady } from './helpers.ts';

interface Candidate {
  manifest: Manifest;
  files: Record<string, Uint8Array>;
}

const bundledManifest = JSON.parse(readFileSync(join(DEFAULT_MODEL_DIR, 'manifest.json'), 'utf8')) as Manifest;
// Every file the manifest lists: model.json, weights.bin, and trees.bin where the model has boosted trees.
const bundledFiles = Object.fromEntries(
  bundledManifest.files.map((f) => [f.path, new Uint8Array(readFileSync(join(DEFAULT_MODEL_DIR, f.path)))]),
) as Record<string, Uint8Array> & { 'model.json': Uint8Array; 'weights.bin': Uint8Array };

/**
 * A "retrained" candidate: the default model with its output bias nudged by `delta`, parity outputs recomputed
 * with the float64 reference implementation, a new content-addressed version, signed by `signer`.
 */
async function makeCandidate(delta: number, signer: LabelKeyPair): Promise<Candidate> {
  const modelJson = JSON.parse(new TextDecoder().decode(bundledFiles['model.json'])) as {
    weightsManifest: { weights: { shape: number[] }[] }[];
  };
  const last = modelJson.weightsManifest[0]!.weights.at(-1)!;
  expect(last.shape).toEqual([72]);
  const floats = new Float32Array(bundledFiles['weights.bin'].slice().buffer);
  for (let i = floats.length - 72; i < floats.length; i++) floats[i] = floats[i]! + delta;
  const weights = new Uint8Array(floats.buffer);
  const parsed = parseModelFiles({ ...bundledFiles, 'weights.bin': weights });
  if (!parsed.ok) throw new Error(parsed.message);
  const outputs = bundledManifest.parity.inputs.map((x) => Array.from(predictReference(parsed.value, x)));
  const files = await Promise.all(
    bundledManifest.files.map(async (f) =>
      f.path === 'weights.bin' ? { path: f.path, sha256: await sha256Hex(weights), bytes: weights.byteLength } : f,
    ),
  );
  const { signature: _unsigned, ...base } = bundledManifest;
  const manifest: Manifest = {
    ...base,
    version: await contentVersion(files),
    createdAt: new Date().toISOString(),
    files,
    lineage: { ...base.lineage, parent: bundledManifest.version },
    parity: { ...base.parity, outputs },
  };
  return {
    manifest: await signManifest(manifest, signer.privateKey, signer.publicKey),
    files: { ...bundledFiles, 'weights.bin': weights },
  };
}

let keys: LabelKeyPair;
let keyDir: string;
let server: SpawnedServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let candidate: Candidate;

async function admin(path: string, init: { method?: string; json?: unknown } = {}): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method: init.method ?? (init.json !== undefined ? 'POST' : 'GET'),
    headers: {
      authorization: `Bearer ${server.adminToken}`,
      ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
  });
}

async function publish(c: Candidate): Promise<string> {
  const r = await admin('/api/v1/models', {
    json: {
      manifest: c.manifest,
      files: Object.fromEntries(Object.entries(c.files).map(([p, d]) => [p, Buffer.from(d).toString('base64')])),
    },
  });
  expect(r.status, await r.clone().text()).toBeLessThan(300);
  return ((await r.json()) as { version: string }).version;
}

interface ModelsGlobal {
  __jukebox?: {
    inference: { modelVersion: string | null };
    models: {
      state: { activeVersion: string | null; shadow: string | null; staged: { version: string } | null };
    };
    predictAndLog(items: { inputs: Features; source: 'batch' }[]): Promise<{ ok: boolean; saved?: Promise<boolean> }>;
  };
}
const running = (p: Page) => p.evaluate(() => (globalThis as ModelsGlobal).__jukebox!.inference.modelVersion);

async function checkForUpdates(): Promise<void> {
  await page.getByRole('button', { name: 'Model', exact: true }).click();
  const button = page.getByRole('button', { name: 'Check for updates' });
  await button.click();
  await poll(() => button.isEnabled()).toBe(true);
}

async function deviceEvents(): Promise<{ kind: string; code?: string; version: string }[]> {
  const r = await admin('/api/v1/admin/device-events');
  return ((await r.json()) as { events: { kind: string; code?: string; version: string }[] }).events;
}

beforeAll(async () => {
  keys = await generateLabelKeyPair();
  keyDir = mkdtempSync(join(tmpdir(), 'jukebox-label-key-'));
  const keyFile = join(keyDir, 'label-public.jwk');
  writeFileSync(keyFile, JSON.stringify(keys.publicKey));
  // The server only accepts signed versions: the bundled default is registered signed with the same key.
  const signedDefault = await signManifest(bundledManifest, keys.privateKey, keys.publicKey);
  server = await spawnServer({
    port: await freePort(),
    model: { manifest: signedDefault, files: bundledFiles },
    env: { LABEL_PUBLIC_KEY_FILE: keyFile, RATE_LIMIT_PER_MINUTE: '100000' },
  });
  candidate = await makeCandidate(0.02, keys);
  browser = await launchChromium();
  // No service worker: page.route must see every request (a service worker's own fetches bypass it).
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, serviceWorkers: 'block' });
  page = await context.newPage();
  page.setDefaultTimeout(30_000);
  await page.goto(`${server.url}/?syncBackoffMs=200-2000`);
  await waitReady(page, false);
  const code = (await (await admin('/api/v1/admin/enrollment-codes', { method: 'POST' })).json()) as { code: string };
  const panel = page.getByTestId('enroll-panel');
  await panel.getByLabel('Enrollment code').fill(code.code);
  await panel.getByRole('button', { name: 'Enroll' }).click();
  await panel.waitFor({ state: 'detached' });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (keyDir) rmSync(keyDir, { recursive: true, force: true });
});

describe('signed model updates on the device', () => {
  it('runs the bundled model, in the production group, and shows its card', async () => {
    expect(await running(page)).toBe(bundledManifest.version);
    await checkForUpdates();
    await poll(() => page.getByTestId('cohort').textContent()).toBe('production');
    expect(await page.getByTestId('active-version').textContent()).toBe(bundledManifest.version);
    const card = page.getByTestId('model-card');
    await poll(() => card.textContent()).toContain('Top Spotify Songs in 73 Countries');
    expect(await card.textContent()).toContain(`Macro AUC`);
    expect(await page.getByTestId('model-limits').locator('li').count()).toBeGreaterThanOrEqual(3);
    await screenshot(page, 'update-model-card');
  });

  it('refuses tampered downloads, keeps the running model, shows and reports each refusal', async () => {
    const v = await publish(candidate);
    expect((await admin(`/api/v1/models/${v}/promote`, { method: 'POST' })).status).toBe(200);
    const other = await generateLabelKeyPair();
    const json = (m: unknown) => ({ status: 200, contentType: 'application/json', body: JSON.stringify(m) });
    const weights = candidate.files['weights.bin']!;
    const flipped = weights.slice();
    flipped[1000] = flipped[1000]! ^ 0x01;
    const cases: { name: string; path: string; fulfill: Parameters<Route['fulfill']>[0]; code: string }[] = [
      {
        name: 'weights differ by one byte',
        path: 'files/weights.bin',
        fulfill: { status: 200, contentType: 'application/octet-stream', body: Buffer.from(flipped) },
        code: 'hash-mismatch',
      },
      {
        name: 'a manifest field changed after signing',
        path: 'manifest.json',
        fulfill: json({
          ...candidate.manifest,
          evaluation: {
            ...candidate.manifest.evaluation,
            model: { ...candidate.manifest.evaluation.model, macroAuc: 0.99 },
          },
        }),
        code: 'signature-mismatch',
      },
      {
        name: 'a manifest signed by another key',
        path: 'manifest.json',
        fulfill: json(await signManifest(candidate.manifest, other.privateKey, other.publicKey)),
        code: 'signature-mismatch',
      },
      {
        name: 'a truncated download',
        path: 'files/weights.bin',
        fulfill: {
          status: 200,
          contentType: 'application/octet-stream',
          body: Buffer.from(weights.subarray(0, weights.byteLength >> 1)),
        },
        code: 'download-incomplete',
      },
    ];
    for (const c of cases) {
      const pattern = `**/api/v1/models/${v}/${c.path}`;
      await page.route(pattern, (route) => route.fulfill(c.fulfill));
      await checkForUpdates();
      const banner = page.getByTestId('model-update-refused');
      await poll(() => banner.getAttribute('data-code')).toBe(c.code);
      expect(await banner.textContent(), c.name).toContain(v);
      expect(await running(page), c.name).toBe(bundledManifest.version);
      expect(await page.getByTestId('model-update-prompt').count(), c.name).toBe(0);
      await poll(async () => (await deviceEvents()).filter((e) => e.kind === 'model-refused').length).toBe(
        cases.indexOf(c) + 1,
      );
      if (c !== cases.at(-1)) await banner.getByRole('button', { name: 'Dismiss' }).click();
      await page.unroute(pattern);
    }
    await screenshot(page, 'update-refused');
    const codes = (await deviceEvents())
      .filter((e) => e.kind === 'model-refused' && e.version === v)
      .map((e) => e.code);
    expect(codes.sort()).toEqual(['download-incomplete', 'hash-mismatch', 'signature-mismatch', 'signature-mismatch']);
    expect(await page.getByTestId('refusals').locator('li').count()).toBe(4);
    // Nothing refused was kept.
    const kept = await page.evaluate(
      () =>
        new Promise<string[]>((resolve, reject) => {
          const open = indexedDB.open('jukebox-edge-models');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const q = open.result.transaction('models').objectStore('models').getAllKeys();
            q.onsuccess = () => {
              open.result.close();
              resolve(q.result as string[]);
            };
          };
        }),
    );
    expect(kept).not.toContain(v);
    await page.getByTestId('model-update-refused').getByRole('button', { name: 'Dismiss' }).click();
  });

  it('offers the genuine signed update, activates it when accepted, and logs with it', async () => {
    const v = candidate.manifest.version;
    await checkForUpdates();
    const prompt = page.getByTestId('model-update-prompt');
    await prompt.waitFor();
    expect(await prompt.textContent()).toContain(v);
    // Offered, not swapped in.
    expect(await running(page)).toBe(bundledManifest.version);
    await screenshot(page, 'update-available', false);
    await prompt.getByRole('button', { name: 'Use it now' }).click();
    await page.getByTestId('model-update-done').waitFor();
    expect(await running(page)).toBe(v);
    expect(await page.getByTestId('active-version').textContent()).toBe(v);
    await predictFromForm(page, '127');
    const logs = await readLogs(page);
    const newest = logs.map((l) => l.log).sort((a, b) => (a.id < b.id ? 1 : -1))[0]!;
    expect(newest.modelVersion).toBe(v);
    await poll(async () => (await deviceEvents()).some((e) => e.kind === 'model-activated' && e.version === v)).toBe(
      true,
    );
    // The next start runs it straight from the model store.
    await page.reload();
    await waitReady(page, false);
    expect(await running(page)).toBe(v);
  });

  it('runs an assigned shadow candidate beside the active model, logs both, and the server reports agreement', async () => {
    const shadow = await makeCandidate(-0.05, keys);
    const sv = await publish(shadow);
    expect((await admin('/api/v1/rollout/shadow', { method: 'PUT', json: { version: sv } })).status).toBe(200);
    await checkForUpdates();
    await poll(() => page.getByTestId('shadow-running').textContent()).toContain(sv);
    await predictFromForm(page, '131');
    await poll(async () => {
      const logs = (await readLogs(page)).map((l) => l.log).sort((a, b) => (a.id < b.id ? 1 : -1));
      return logs[0]?.shadow?.modelVersion;
    }).toBe(sv);
    const newest = (await readLogs(page)).map((l) => l.log).sort((a, b) => (a.id < b.id ? 1 : -1))[0]!;
    expect(newest.modelVersion).toBe(candidate.manifest.version);
    // Only the active result is shown; the shadow's outputs differ (its bias was nudged the other way).
    expect(newest.shadow!.outputs[0]).not.toBeCloseTo(newest.outputs[0]!, 4);
    await page.getByRole('button', { name: 'Model', exact: true }).click();
    await screenshot(page, 'update-shadow-running', false);
    const active = candidate.manifest.version;
    const today = new Date().toISOString().slice(0, 10);
    await poll(async () => {
      const r = await admin(`/api/v1/shadow?version=${active}&from=${today}&to=${today}`);
      const body = (await r.json()) as {
        shadows?: { shadow: string; summary: { n: number; top1Agreement: number } }[];
      };
      return body.shadows?.find((s) => s.shadow === sv)?.summary.n ?? 0;
    }, 60_000).toBeGreaterThanOrEqual(1);
  });

  it('warns on the device when its recent songs drift from the model’s training reference', async () => {
    // Real catalogue songs made quiet and acoustic: what a label's folk imprint might bring in.
    const items = catalogueSongs()
      .slice(0, 60)
      .map((song) => ({
        inputs: { ...song.features, energy: Math.min(song.features.energy, 0.12), acousticness: 0.96 },
        source: 'batch' as const,
      }));
    const saved = await page.evaluate(async (its) => {
      const r = await (globalThis as ModelsGlobal).__jukebox!.predictAndLog(its);
      return r.ok ? await r.saved : false;
    }, items);
    expect(saved).toBe(true);
    await page.getByRole('button', { name: 'Predict', exact: true }).click();
    const warning = page.getByTestId('drift-warning');
    await warning.waitFor({ timeout: 30_000 });
    const text = await warning.textContent();
    expect(text).toMatch(/Acousticness/);
    expect(text).toMatch(/Energy/);
    await screenshot(page, 'update-drift-warning', false);
    await poll(async () => (await deviceEvents()).some((e) => e.kind === 'drift-warning')).toBe(true);
    // The Model view at phone width: nothing wider than the screen.
    await page.setViewportSize({ width: 375, height: 812 });
    await page.getByRole('button', { name: 'Model', exact: true }).click();
    await screenshot(page, 'update-phone-model', false);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
  });
});
