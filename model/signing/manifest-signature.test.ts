import { describe, expect, it } from 'vitest';
import { contentVersion, sha256Hex } from '../contract/canonical.ts';
import { COUNTRY_CODES } from '../contract/countries.ts';
import { FEATURE_NAMES } from '../contract/features.ts';
import { type Manifest, ManifestSchema } from '../contract/manifest.ts';
import { generateLabelKeyPair, signManifest, verifyManifest, verifyModelFiles } from './manifest-signature.ts';

const weights = new Uint8Array(64).map((_, i) => i);
const modelJson = new TextEncoder().encode('{"modelTopology":{}}');

async function manifestFixture(): Promise<Manifest> {
  const files = [
    { path: 'model.json', sha256: await sha256Hex(modelJson), bytes: modelJson.byteLength },
    { path: 'weights.bin', sha256: await sha256Hex(weights), bytes: weights.byteLength },
  ];
  const metrics = { macroAuc: 0.8, microAuc: 0.85, top5Hit: 0.5, precisionAt5: 0.3, recallAt5: 0.2, brier: 0.05 };
  return ManifestSchema.parse({
    schemaVersion: 1,
    version: await contentVersion(files),
    createdAt: '2026-11-23T09:00:00.000Z',
    format: 'tfjs-layers',
    files,
    input: { features: [...FEATURE_NAMES], dtype: 'float32', scaling: 'inside-model' },
    output: { countries: [...COUNTRY_CODES], activation: 'sigmoid' },
    architecture: { hidden: [64], activation: 'relu', parameters: 100 },
    evaluation: {
      split: 'test',
      songs: 10,
      model: metrics,
      baselines: { prior: metrics },
      perCountryAuc: Object.fromEntries(COUNTRY_CODES.map((c) => [c, null])),
      reliability: [{ lo: 0, hi: 1, count: 1, meanPredicted: 0.1, observedRate: 0 }],
    },
    lineage: {
      datasets: [{ name: 'x.csv', sha256: files[0]!.sha256, rows: 3 }],
      codeCommit: 'abc',
      parameters: {},
      seed: 1,
    },
    reference: {
      songs: 3,
      features: FEATURE_NAMES.map((name) => ({
        name,
        kind: 'continuous',
        histogram: { edges: [0.5], counts: [1, 2] },
        mean: 0.5,
        std: 0.1,
      })),
      outputs: {
        meanProbability: COUNTRY_CODES.map(() => 0.1),
        top1Counts: COUNTRY_CODES.map(() => 0),
        entropy: { edges: [3], counts: [1, 2] },
      },
    },
    parity: { tolerance: 1e-4, inputs: [FEATURE_NAMES.map(() => 0)], outputs: [COUNTRY_CODES.map(() => 0.5)] },
  });
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

describe('model file verification', () => {
  it('accepts the exact files and refuses a flipped byte or a truncated download', async () => {
    const m = await manifestFixture();
    const good = new Map<string, Uint8Array>([
      ['model.json', modelJson],
      ['weights.bin', weights],
    ]);
    expect((await verifyModelFiles(m, good)).ok).toBe(true);

    const flipped = weights.slice();
    flipped[10] = (flipped[10] ?? 0) ^ 1;
    const r1 = await verifyModelFiles(m, new Map([...good, ['weights.bin', flipped]]));
    expect(r1.ok || r1.code).toBe('hash-mismatch');

    const r2 = await verifyModelFiles(m, new Map([...good, ['weights.bin', weights.slice(0, 32)]]));
    expect(r2.ok || r2.code).toBe('download-incomplete');

    const r3 = await verifyModelFiles(m, new Map([['model.json', modelJson]]));
    expect(r3.ok || r3.code).toBe('download-incomplete');
  });
});
