/**
 * First start and serving: the default model becomes the first production
 * version, the catalogue is loaded from its CSV, an admin token is made only
 * once; the built PWA is served with SPA fallback, /admin/ and no-cache for
 * the service worker; CORS only for the configured origin; publishing with a
 * configured label key requires a valid signature; the enrollment answer
 * carries that key.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateLabelKeyPair, signManifest } from '../../model/signing/manifest-signature.ts';
import { loadConfig } from '../../server/config.ts';
import { bootstrap, createServices } from '../../server/services.ts';
import { type FixtureModel, fixtureModel, publishBody } from '../../server/testing/fixtures.ts';
import { createTestServer } from '../../server/testing/harness.ts';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'jukebox-boot-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
/** Writes a model's manifest and files into a new folder, as the bundled default model lies on disk. */
function writeModelDir(modelDir: string, m: FixtureModel): string {
  mkdirSync(modelDir);
  writeFileSync(join(modelDir, 'manifest.json'), JSON.stringify(m.manifest));
  for (const [p, d] of Object.entries(m.files)) writeFileSync(join(modelDir, p), d);
  return modelDir;
}

describe('first start', () => {
  it('registers the default model as production, loads the catalogue, prints an admin token once', async () => {
    const dir = tempDir();
    const m = await fixtureModel({ salt: 'boot' });
    const modelDir = writeModelDir(join(dir, 'model'), m);
    const csv = join(dir, 'catalogue.csv');
    writeFileSync(
      csv,
      'spotify_id,name,artists,is_explicit,duration_ms,danceability,energy,key,loudness,mode,speechiness,acousticness,instrumentalness,liveness,valence,tempo\n' +
        'a,A,X,false,200000,0.5,0.5,1,-5,1,0.1,0.1,0,0.1,0.5,120\nb,B,Y,true,180000,0.6,0.4,2,-6,0,0.1,0.1,0,0.1,0.5,100\n',
    );
    const config = loadConfig(
      {},
      { dataDir: join(dir, 'data'), defaultModelDir: modelDir, cataloguePath: csv, webDist: join(dir, 'web') },
    );
    const deps = await createServices(config, { log: () => {} });
    const first = await bootstrap(deps);
    expect(first.adminToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first.defaultModel).toEqual({ version: m.manifest.version, created: true });
    expect(first.catalogue).toMatchObject({ songs: 2, rejected: 0 });
    expect(await deps.registry.production()).toBe(m.manifest.version);
    expect((await deps.tokens.lookup(first.adminToken as string))?.role).toBe('admin');
    await deps.store.close();

    // Second start on the same data dir: nothing new, no token shown again.
    const again = await createServices(config, { log: () => {} });
    const second = await bootstrap(again);
    expect(second.adminToken).toBeNull();
    expect(second.defaultModel).toEqual({ version: m.manifest.version, created: false });
    expect(second.catalogue).toMatchObject({ songs: 2, source: 'store' });
    await again.store.close();
  });

  it('registers the bundled default model unsigned even with a label key, yet refuses unsigned uploads', async () => {
    const dir = tempDir();
    const m = await fixtureModel({ salt: 'boot-key' });
    const modelDir = writeModelDir(join(dir, 'model'), m);
    const keys = await generateLabelKeyPair();
    const keyFile = join(dir, 'label-public.jwk.json');
    writeFileSync(keyFile, JSON.stringify(keys.publicKey));
    const config = loadConfig(
      {},
      {
        dataDir: join(dir, 'data'),
        defaultModelDir: modelDir,
        cataloguePath: join(dir, 'none.csv'),
        labelPublicKeyFile: keyFile,
      },
    );
    const deps = await createServices(config, { log: () => {} });
    const boot = await bootstrap(deps);
    expect(boot.defaultModel).toEqual({ version: m.manifest.version, created: true });
    expect(await deps.registry.production()).toBe(m.manifest.version);
    const other = await fixtureModel({ salt: 'boot-key-unsigned' });
    await expect(
      deps.registry.publish(other.manifest, new Map(Object.entries(other.files)), 'admin'),
    ).rejects.toMatchObject({ code: expect.stringMatching(/signature/) });
    await deps.store.close();
  });

  it('starts without a default model and says so', async () => {
    const dir = tempDir();
    const config = loadConfig(
      {},
      { dataDir: dir, defaultModelDir: join(dir, 'missing'), cataloguePath: join(dir, 'none.csv') },
    );
    const deps = await createServices(config, { log: () => {} });
    const r = await bootstrap(deps);
    expect(r.defaultModel).toEqual({ missing: join(dir, 'missing', 'manifest.json') });
    expect(r.catalogue).toEqual({ missing: join(dir, 'none.csv') });
    await deps.store.close();
  });

  it('refuses invalid configuration with every problem listed, and masks secrets', async () => {
    expect(() => loadConfig({ PORT: 'abc', ALERT_WEBHOOK_URL: 'not a url' })).toThrow(/port[\s\S]*alertWebhookUrl/);
    const { describeConfig } = await import('../../server/config.ts');
    const text = describeConfig(loadConfig({ ADMIN_TOKEN: 's'.repeat(40), DATABASE_URL: 'postgres://u:secret@h/db' }));
    expect(text).not.toContain('s'.repeat(40));
    expect(text).not.toContain('secret');
    expect(text).toContain('postgres://u:****@h/db');
  });
});

describe('serving the PWA', () => {
  it('serves files, the admin page, SPA fallback, and no-cache for the service worker', async () => {
    const dir = tempDir();
    const web = join(dir, 'web');
    mkdirSync(join(web, 'admin'), { recursive: true });
    mkdirSync(join(web, 'assets'));
    writeFileSync(join(web, 'index.html'), '<!doctype html><title>app</title>');
    writeFileSync(join(web, 'admin', 'index.html'), '<!doctype html><title>admin</title>');
    writeFileSync(join(web, 'sw.js'), 'self.x = 1;');
    writeFileSync(join(web, 'manifest.webmanifest'), '{}');
    writeFileSync(join(web, 'assets', 'app-abc.js'), 'console.log(1)');
    const s = await createTestServer({ config: { webDist: web } });
    try {
      expect(await (await s.req('/', { token: null })).text()).toContain('<title>app</title>');
      expect(await (await s.req('/predict/some/route', { token: null })).text()).toContain('<title>app</title>');
      expect(await (await s.req('/admin/', { token: null })).text()).toContain('<title>admin</title>');
      expect(await (await s.req('/admin/drift', { token: null })).text()).toContain('<title>admin</title>');
      const sw = await s.req('/sw.js', { token: null });
      expect(sw.headers.get('cache-control')).toBe('no-cache');
      expect((await s.req('/manifest.webmanifest', { token: null })).headers.get('cache-control')).toBe('no-cache');
      expect((await s.req('/assets/app-abc.js', { token: null })).headers.get('cache-control')).toContain('immutable');
      // Cross-origin isolated (shared memory for the kernel's threads): the page, its workers and its assets.
      for (const path of ['/', '/predict/some/route', '/admin/', '/sw.js', '/assets/app-abc.js']) {
        const res = await s.req(path, { token: null });
        expect(res.headers.get('cross-origin-opener-policy'), path).toBe('same-origin');
        expect(res.headers.get('cross-origin-embedder-policy'), path).toBe('require-corp');
      }
      // API paths never fall back to the app shell.
      const api = await s.req('/api/v1/unknown', { token: null });
      expect(api.status).toBe(404);
      expect(((await api.json()) as { error: { code: string } }).error.code).toBe('not-found');
    } finally {
      await s.close();
    }
  });
});

describe('CORS', () => {
  it('allows only the configured app origin', async () => {
    const s = await createTestServer({ config: { appOrigin: 'https://app.example' } });
    try {
      const ok = await s.req('/api/v1/openapi.json', { token: null, headers: { origin: 'https://app.example' } });
      expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example');
      const other = await s.req('/api/v1/openapi.json', { token: null, headers: { origin: 'https://evil.example' } });
      expect(other.headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
    } finally {
      await s.close();
    }
    const none = await createTestServer();
    try {
      const r = await none.req('/api/v1/openapi.json', { token: null, headers: { origin: 'https://app.example' } });
      expect(r.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await none.close();
    }
  });
});

describe('signed publishing', () => {
  it('with a label key configured, refuses unsigned or wrongly signed manifests and accepts a signed one', async () => {
    const dir = tempDir();
    const keys = await generateLabelKeyPair();
    const other = await generateLabelKeyPair();
    const keyFile = join(dir, 'label.pub.jwk');
    writeFileSync(keyFile, JSON.stringify(keys.publicKey));
    const s = await createTestServer({ config: { labelPublicKeyFile: keyFile } });
    try {
      const m = await fixtureModel({ salt: 'sig' });
      const body = publishBody(m);
      const unsigned = await s.req('/api/v1/models', { json: body });
      expect([unsigned.status, ((await unsigned.json()) as { error: { code: string } }).error.code]).toEqual([
        422,
        'signature-missing',
      ]);
      const byOther = await s.req('/api/v1/models', {
        json: { ...body, manifest: await signManifest(m.manifest, other.privateKey, other.publicKey) },
      });
      expect(((await byOther.json()) as { error: { code: string } }).error.code).toBe('signature-mismatch');
      const signed = await signManifest(m.manifest, keys.privateKey, keys.publicKey);
      const tampered = await s.req('/api/v1/models', {
        json: { ...body, manifest: { ...signed, lineage: { ...signed.lineage, seed: 99 } } },
      });
      expect(((await tampered.json()) as { error: { code: string } }).error.code).toBe('signature-mismatch');
      const ok = await s.req('/api/v1/models', { json: { ...body, manifest: signed } });
      expect(ok.status).toBe(201);
      // Devices pin the key at enrollment.
      const { code } = (await (await s.req('/api/v1/admin/enrollment-codes', { method: 'POST' })).json()) as {
        code: string;
      };
      const enrolled = (await (
        await s.req('/api/v1/enroll', { token: null, json: { code, deviceId: 'pin-me' } })
      ).json()) as { publicKey: JsonWebKey };
      expect(enrolled.publicKey).toMatchObject({ kty: 'EC', crv: 'P-256', x: keys.publicKey.x, y: keys.publicKey.y });
      expect(enrolled.publicKey).not.toHaveProperty('d');
    } finally {
      await s.close();
    }
  });
});
