import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const DEFAULT_MODEL = 'public/models/default';

async function cli(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run('npx', ['tsx', 'model/admin/cli.ts', ...args], { env: { ...process.env } });
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout + err.stderr };
  }
}

describe('admin CLI: keys and signatures', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jukebox-admin-'));
    await cp(DEFAULT_MODEL, join(dir, 'model'), { recursive: true });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates an owner-only private key and refuses to overwrite it', async () => {
    const keys = join(dir, 'keys');
    const first = await cli('keygen', '--key-dir', keys);
    expect(first.code).toBe(0);
    expect(((await stat(join(keys, 'label-private.jwk.json'))).mode & 0o777).toString(8)).toBe('600');
    const again = await cli('keygen', '--key-dir', keys);
    expect(again.code).toBe(1);
    expect(again.out).toContain('already exists');
  });

  it('signs a model folder, verifies it, and refuses it after a one-byte change', async () => {
    const keys = join(dir, 'keys');
    const model = join(dir, 'model');
    expect((await cli('sign', model, '--key-dir', keys)).code).toBe(0);
    const manifest = JSON.parse(await readFile(join(model, 'manifest.json'), 'utf8'));
    expect(manifest.signature.algorithm).toBe('ECDSA-P256-SHA256');
    expect((await cli('verify', model, '--key-dir', keys)).code).toBe(0);

    const weights = await readFile(join(model, 'weights.bin'));
    weights[100] = (weights[100] ?? 0) ^ 1;
    await writeFile(join(model, 'weights.bin'), weights);
    const tampered = await cli('verify', model, '--key-dir', keys);
    expect(tampered.code).toBe(1);
    expect(tampered.out).toContain('does not match the hash');
  });

  it('answers an unknown command with the usage and exit code 2', async () => {
    const r = await cli('frobnicate');
    expect(r.code).toBe(2);
    expect(r.out).toContain('usage: npm run model');
  });
});
