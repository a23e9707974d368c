import { describe, expect, it } from 'vitest';
import { type Manifest, ManifestSchema } from '../contract/manifest.ts';
import { makeTinyModel } from '../testing/tiny-model.ts';
import { generateLabelKeyPair, signManifest, verifyManifest } from './manifest-signature.ts';

// The shared tiny model: real files and a manifest that passes the schema.
const tiny = await makeTinyModel(3);

function manifestFixture(): Promise<Manifest> {
  return Promise.resolve(structuredClone(tiny.manifest));
}

describe('manifest signatures', () => {
  it('verifies a manifest signed by the pinned key', async () => {
    const keys = await generateLabelKeyPair();
    const signed = await signManifest(await manifestFixture(), keys.privateKey, keys.publicKey);
    expect(ManifestSchema.safeParse(signed).success).toBe(true);
    expect(await verifyManifest(signed, keys.publicKey)).toEqual({ ok: true, value: true });
  });

  it('refuses a changed field, another key, a missing or garbled signature', async () => {
    const keys = await generateLabelKeyPair();
    const other = await generateLabelKeyPair();
    const m = await manifestFixture();
    const signed = await signManifest(m, keys.privateKey, keys.publicKey);

    const changed = { ...signed, lineage: { ...signed.lineage, seed: 2 } };
    const r1 = await verifyManifest(changed, keys.publicKey);
    expect(r1.ok || r1.code).toBe('signature-mismatch');

    const byOther = await signManifest(m, other.privateKey, other.publicKey);
    const r2 = await verifyManifest(byOther, keys.publicKey);
    expect(r2.ok || r2.code).toBe('signature-mismatch');

    const r3 = await verifyManifest(m, keys.publicKey);
    expect(r3.ok || r3.code).toBe('signature-missing');

    const garbled = { ...signed, signature: { ...signed.signature!, value: '%%%' } };
    const r4 = await verifyManifest(garbled, keys.publicKey);
    expect(r4.ok || r4.code).toBe('signature-mismatch');

    // Key order in the JSON does not matter: the signature is over canonical JSON.
    const reversed = (v: unknown): unknown =>
      v && typeof v === 'object' && !Array.isArray(v)
        ? Object.fromEntries(
            Object.entries(v)
              .reverse()
              .map(([k, x]) => [k, reversed(x)]),
          )
        : v;
    const reordered = reversed(JSON.parse(JSON.stringify(signed))) as Manifest;
    expect(Object.keys(reordered)[0]).toBe('signature');
    expect((await verifyManifest(reordered, keys.publicKey)).ok).toBe(true);
  });
});
