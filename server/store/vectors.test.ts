import { describe, expect, it } from 'vitest';
import { decodeVector, encodeVector } from './vectors.ts';

describe('vector blobs', () => {
  it('round-trips doubles exactly, also from an unaligned buffer', () => {
    const xs = [0, 1, -60.25, 0.1 + 0.2, 3_600_000, 1e-12];
    const bytes = encodeVector(xs);
    expect(bytes.byteLength).toBe(48);
    expect(decodeVector(bytes)).toEqual(xs);
    const unaligned = Buffer.concat([Buffer.from([9]), Buffer.from(bytes)]).subarray(1);
    expect(decodeVector(unaligned)).toEqual(xs);
  });
});
