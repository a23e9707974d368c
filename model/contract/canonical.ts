/**
 * Canonical bytes of a manifest (what gets signed) and content-addressed
 * version ids. Isomorphic: WebCrypto on both Node 20 and browsers.
 */
import type { Manifest, ModelFile } from './manifest.ts';

/** JSON with object keys sorted at every level, no whitespace. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      return Object.fromEntries(
        Object.keys(o)
          .sort()
          .map((k) => [k, o[k]]),
      );
    }
    return v;
  });
}

/** The bytes a signature covers: the manifest without its signature. */
export function canonicalManifestBytes(m: Manifest): Uint8Array {
  const { signature: _unsigned, ...rest } = m;
  return new TextEncoder().encode(canonicalJson(rest));
}

export function toHex(bytes: ArrayBuffer | Uint8Array): string {
  const u = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let s = '';
  for (const b of u) s += b.toString(16).padStart(2, '0');
  return s;
}

export async function sha256Hex(data: ArrayBuffer | Uint8Array | string): Promise<string> {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  return toHex(await crypto.subtle.digest('SHA-256', bytes as BufferSource));
}

/** "v" + 12 hex of the sha256 over "path:sha256" lines of the files, sorted by path. */
export async function contentVersion(files: readonly ModelFile[]): Promise<string> {
  const text = [...files]
    .sort((a, b) => a.path.localeCompare(b.path))
    .map((f) => `${f.path}:${f.sha256}`)
    .join('\n');
  return `v${(await sha256Hex(text)).slice(0, 12)}`;
}
