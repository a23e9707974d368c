/**
 * Signing and verifying model manifests with the label's ECDSA P-256 key.
 * Isomorphic (WebCrypto on Node 20 and in browsers): the pipeline and admin
 * CLI sign with the private key, which never leaves the label; the server and
 * devices verify against the public key pinned at enrollment or build.
 */
import { canonicalManifestBytes, sha256Hex } from '../contract/canonical.ts';
import { fail, ok, type Result } from '../contract/errors.ts';
import type { Manifest } from '../contract/manifest.ts';

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN_PARAMS = { name: 'ECDSA', hash: 'SHA-256' } as const;

export interface LabelKeyPair {
  readonly privateKey: JsonWebKey;
  readonly publicKey: JsonWebKey;
}

/** A fresh label key pair as JWKs (store the private one offline; publish the public one). */
export async function generateLabelKeyPair(): Promise<LabelKeyPair> {
  const pair = (await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  return {
    privateKey: await crypto.subtle.exportKey('jwk', pair.privateKey),
    publicKey: await crypto.subtle.exportKey('jwk', pair.publicKey),
  };
}

/** Key id: sha256 (hex) of the raw public key bytes, so a device can tell which key signed. */
export async function publicKeyId(publicKey: JsonWebKey): Promise<string> {
  const key = await crypto.subtle.importKey('jwk', publicOnly(publicKey), ALGORITHM, true, ['verify']);
  return sha256Hex(await crypto.subtle.exportKey('raw', key));
}

function publicOnly(jwk: JsonWebKey): JsonWebKey {
  const { kty, crv, x, y } = jwk;
  return { kty, crv, x, y };
}

function toBase64(bytes: ArrayBuffer): string {
  let s = '';
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s);
}

function fromBase64(text: string): Uint8Array | undefined {
  try {
    const s = atob(text);
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  } catch {
    return undefined;
  }
}

/**
 * Returns a copy of the manifest with `signature` set; any old signature is replaced.
 *
 * @example
 * const { privateKey, publicKey } = await generateLabelKeyPair();
 * const signed = await signManifest(manifest, privateKey, publicKey);
 */
export async function signManifest(
  manifest: Manifest,
  privateKey: JsonWebKey,
  publicKey: JsonWebKey,
): Promise<Manifest> {
  const key = await crypto.subtle.importKey('jwk', privateKey, ALGORITHM, false, ['sign']);
  const sig = await crypto.subtle.sign(SIGN_PARAMS, key, canonicalManifestBytes(manifest) as BufferSource);
  return {
    ...manifest,
    signature: { algorithm: 'ECDSA-P256-SHA256', keyId: await publicKeyId(publicKey), value: toBase64(sig) },
  };
}

/**
 * Checks the manifest's signature against the pinned public key.
 * Fails with `signature-missing` or `signature-mismatch` (another key, a
 * changed field, a malformed signature).
 */
export async function verifyManifest(manifest: Manifest, publicKey: JsonWebKey): Promise<Result<true>> {
  const s = manifest.signature;
  if (!s) return fail('signature-missing');
  const keyId = await publicKeyId(publicKey);
  if (s.keyId !== keyId) return fail('signature-mismatch', { reason: 'signed by another key', keyId: s.keyId });
  const sig = fromBase64(s.value);
  if (!sig) return fail('signature-mismatch', { reason: 'signature is not base64' });
  const key = await crypto.subtle.importKey('jwk', publicOnly(publicKey), ALGORITHM, false, ['verify']);
  const valid = await crypto.subtle.verify(
    SIGN_PARAMS,
    key,
    sig as BufferSource,
    canonicalManifestBytes(manifest) as BufferSource,
  );
  return valid ? ok(true) : fail('signature-mismatch', { reason: 'signature does not match the manifest' });
}
