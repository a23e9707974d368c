import { describe, expect, it } from 'vitest';
import { makeTinyModel } from '../testing/tiny-model.ts';
import { verifyModelPackage } from './verify-model-package.ts';

const tiny = await makeTinyModel(3);
const m = tiny.manifest;
const modelJson = tiny.files['model.json']!;
const weights = tiny.files['weights.bin']!;
const good = new Map<string, Uint8Array>([
  ['model.json', modelJson],
  ['weights.bin', weights],
]);

describe('verifyModelPackage', () => {
  it('accepts the exact files and refuses a flipped byte or a truncated download', async () => {
    expect((await verifyModelPackage(m, good)).ok).toBe(true);

    const flipped = weights.slice();
    flipped[10] = (flipped[10] ?? 0) ^ 1;
    const r1 = await verifyModelPackage(m, new Map([...good, ['weights.bin', flipped]]));
    expect(r1.ok || r1.code).toBe('hash-mismatch');
    expect(r1.ok || r1.details).toMatchObject({ path: 'weights.bin', expected: m.files[1]!.sha256 });

    const r2 = await verifyModelPackage(m, new Map([...good, ['weights.bin', weights.slice(0, 32)]]));
    expect(r2.ok || r2.code).toBe('download-incomplete');
    expect(r2.ok || r2.details).toMatchObject({ path: 'weights.bin', expectedBytes: weights.byteLength, gotBytes: 32 });

    const r3 = await verifyModelPackage(m, new Map([['model.json', modelJson]]));
    expect(r3.ok || r3.code).toBe('download-incomplete');
  });

  it('calls a file longer than listed a hash mismatch, not an incomplete download', async () => {
    const longer = new Uint8Array(weights.byteLength + 4);
    longer.set(weights);
    const r = await verifyModelPackage(m, new Map([...good, ['weights.bin', longer]]));
    expect(r.ok || r.code).toBe('hash-mismatch');
  });

  it('takes the files as a record of ArrayBuffers too (the worker protocol’s shape)', async () => {
    const record = { 'model.json': modelJson.slice().buffer, 'weights.bin': weights.slice().buffer };
    expect((await verifyModelPackage(m, record)).ok).toBe(true);
    const r = await verifyModelPackage(m, { 'model.json': modelJson.slice().buffer });
    expect(r.ok || r.code).toBe('download-incomplete');
  });

  it('an upload must be the package as listed: missing or short files and unlisted files are the sender’s error', async () => {
    expect((await verifyModelPackage(m, good, { origin: 'upload' })).ok).toBe(true);
    const missing = await verifyModelPackage(m, new Map([['model.json', modelJson]]), { origin: 'upload' });
    expect(missing.ok || missing.code).toBe('hash-mismatch');
    const short = await verifyModelPackage(m, new Map([...good, ['weights.bin', weights.slice(0, 8)]]), {
      origin: 'upload',
    });
    expect(short.ok || short.code).toBe('hash-mismatch');
    const extra = await verifyModelPackage(m, new Map([...good, ['notes.txt', new Uint8Array(3)]]), {
      origin: 'upload',
    });
    expect(extra.ok || extra.code).toBe('manifest-invalid');
    expect(extra.ok || extra.details).toEqual({ unlistedFiles: ['notes.txt'] });
    // A download ignores bytes it was handed beyond the listed files.
    expect((await verifyModelPackage(m, new Map([...good, ['notes.txt', new Uint8Array(3)]]))).ok).toBe(true);
  });
});
