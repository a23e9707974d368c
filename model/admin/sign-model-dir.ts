/**
 * Signs the manifest of an exported model folder after checking that the
 * files in the folder are exactly the ones the manifest names.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError } from '../contract/errors.ts';
import { type Manifest, ManifestSchema } from '../contract/manifest.ts';
import { signManifest, verifyManifest } from '../signing/manifest-signature.ts';
import { verifyModelPackage } from '../signing/verify-model-package.ts';

export async function readModelDir(dir: string): Promise<{ manifest: Manifest; files: Map<string, Uint8Array> }> {
  const raw = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as unknown;
  const parsed = ManifestSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(
      `${describeError('manifest-invalid')} ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`,
    );
  }
  const files = new Map<string, Uint8Array>();
  for (const f of parsed.data.files) files.set(f.path, new Uint8Array(await readFile(join(dir, f.path))));
  return { manifest: parsed.data, files };
}

export async function signModelDir(dir: string, privateKey: JsonWebKey, publicKey: JsonWebKey): Promise<Manifest> {
  const { manifest, files } = await readModelDir(dir);
  const filesOk = await verifyModelPackage(manifest, files);
  if (!filesOk.ok) throw new Error(`${filesOk.message} ${JSON.stringify(filesOk.details)}`);
  const signed = await signManifest(manifest, privateKey, publicKey);
  const check = await verifyManifest(signed, publicKey);
  if (!check.ok) throw new Error(`${check.message}: the private and public key files do not belong together`);
  await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(signed, null, 2)}\n`);
  return signed;
}
