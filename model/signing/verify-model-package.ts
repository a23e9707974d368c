/**
 * The one check of a model's files against its manifest (names, sizes,
 * sha256), used wherever model bytes arrive: the server's registry on
 * publish, the device's model updater and inference engine, the admin CLI
 * and the pipeline's `--from-server`. Isomorphic: WebCrypto's SHA-256 on
 * Node 20 and in browsers.
 */
import { sha256Hex } from '../contract/canonical.ts';
import { fail, ok, type Result } from '../contract/errors.ts';
import type { Manifest } from '../contract/manifest.ts';

export type PackageBytes =
  | ReadonlyMap<string, ArrayBuffer | Uint8Array>
  | Readonly<Record<string, ArrayBuffer | Uint8Array | undefined>>;

export interface VerifyPackageOptions {
  /**
   * Where the bytes came from. 'download' (default): a missing or short file is `download-incomplete` (try
   * again). 'upload': the sender's package is wrong as sent, so a missing or short file is `hash-mismatch`
   * and a file the manifest does not list is `manifest-invalid`.
   */
  readonly origin?: 'download' | 'upload';
}

function entries(files: PackageBytes): Map<string, ArrayBuffer | Uint8Array> {
  if (files instanceof Map) return files as Map<string, ArrayBuffer | Uint8Array>;
  const out = new Map<string, ArrayBuffer | Uint8Array>();
  for (const [path, bytes] of Object.entries(files)) if (bytes) out.set(path, bytes);
  return out;
}

/**
 * Checks every file the manifest lists: present, the listed size (checked first, so a truncated transfer is
 * told apart from a changed byte), the listed sha256. Details name the file (`path`) and what differed.
 *
 * @example
 * const checked = await verifyModelPackage(manifest, new Map([['model.json', json], ['weights.bin', bin]]));
 * if (!checked.ok) refuse(checked.code); // 'download-incomplete' | 'hash-mismatch'
 */
export async function verifyModelPackage(
  manifest: Pick<Manifest, 'files'>,
  files: PackageBytes,
  options: VerifyPackageOptions = {},
): Promise<Result<true>> {
  const upload = options.origin === 'upload';
  const byPath = entries(files);
  if (upload) {
    const listed = new Set(manifest.files.map((f) => f.path));
    const unlisted = [...byPath.keys()].filter((p) => !listed.has(p));
    if (unlisted.length > 0) return fail('manifest-invalid', { unlistedFiles: unlisted });
  }
  const incomplete = upload ? 'hash-mismatch' : 'download-incomplete';
  for (const f of manifest.files) {
    const bytes = byPath.get(f.path);
    if (!bytes) return fail(incomplete, { path: f.path, reason: 'missing' });
    if (bytes.byteLength !== f.bytes) {
      return fail(bytes.byteLength < f.bytes ? incomplete : 'hash-mismatch', {
        path: f.path,
        expectedBytes: f.bytes,
        gotBytes: bytes.byteLength,
      });
    }
    const hash = await sha256Hex(bytes);
    if (hash !== f.sha256) return fail('hash-mismatch', { path: f.path, expected: f.sha256, got: hash });
  }
  return ok(true);
}
