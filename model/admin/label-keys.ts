/**
 * The label's signing keys on the admin's machine: generated once, the
 * private half written owner-only and never sent anywhere.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { generateLabelKeyPair, publicKeyId } from '../signing/manifest-signature.ts';

export const PRIVATE_KEY_FILE = 'label-private.jwk.json';
export const PUBLIC_KEY_FILE = 'label-public.jwk.json';

export function defaultKeyDir(): string {
  return process.env.JUKEBOX_KEY_DIR ?? join(homedir(), '.jukebox');
}

export async function createLabelKeys(dir: string, force = false): Promise<{ keyId: string; publicPath: string }> {
  const privatePath = join(dir, PRIVATE_KEY_FILE);
  if (existsSync(privatePath) && !force) {
    throw new Error(
      `${privatePath} already exists; pass --force to replace it (devices pinned to it will refuse new models)`,
    );
  }
  const keys = await generateLabelKeyPair();
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(privatePath, `${JSON.stringify(keys.privateKey, null, 2)}\n`, { mode: 0o600 });
  await chmod(privatePath, 0o600);
  const publicPath = join(dir, PUBLIC_KEY_FILE);
  await writeFile(publicPath, `${JSON.stringify(keys.publicKey, null, 2)}\n`);
  return { keyId: await publicKeyId(keys.publicKey), publicPath };
}

export async function readJwk(path: string): Promise<JsonWebKey> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as JsonWebKey;
  } catch (cause) {
    throw new Error(`cannot read key ${path}: run "npm run model -- keygen" first`, { cause });
  }
}
