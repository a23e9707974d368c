import { describe, expect, it } from 'vitest';
import { toVector } from '../../model/contract/index.ts';
import { ThresholdsSchema } from '../config.ts';
import { buildReference, catalogueSongs, fakeModel } from '../testing/fixtures.ts';
import { addDistinct, addRow, emptyBucket } from './bucket.ts';
import { driftReport } from './report.ts';

const songs = catalogueSongs().slice(0, 300);
const ref = buildReference(songs.map((s) => s.features));
const vec = toVector;

function bucketOf(shift: number) {
  const b = emptyBucket(ref);
  for (const s of songs) {
    const v = vec({ ...s.features, energy: Math.min(1, s.features.energy + shift) });
    addRow(b, ref, v);
    addDistinct(b, ref, v, fakeModel(v));
  }
  return b;
}

describe('driftReport', () => {
  it('is quiet on the reference songs themselves and flags a shifted feature', () => {
    const t = ThresholdsSchema.parse({});
    const same = driftReport(ref, bucketOf(0), t);
    expect(same.status).toBe('ok');
    expect(same.features.every((f) => f.psi < 1e-9)).toBe(true);
    const shifted = driftReport(ref, bucketOf(0.25), t);
    const energy = shifted.features.find((f) => f.name === 'energy');
    expect(energy?.status).toBe('alert');
    expect(shifted.features.filter((f) => f.status !== 'ok').map((f) => f.name)).toEqual(['energy']);
  });
  it('uses the configured multiple-testing correction', () => {
    const holm = driftReport(ref, bucketOf(0.03), ThresholdsSchema.parse({ ksCorrection: 'holm' }));
    const bh = driftReport(ref, bucketOf(0.03), ThresholdsSchema.parse({ ksCorrection: 'bh' }));
    const e1 = holm.features.find((f) => f.name === 'energy');
    const e2 = bh.features.find((f) => f.name === 'energy');
    expect(e1?.ksPValue).toBe(e2?.ksPValue);
    // BH is never more conservative than Holm.
    expect(e2?.ksPValueAdjusted).toBeLessThanOrEqual(e1?.ksPValueAdjusted ?? 0);
  });
  it('reports too little data below the minimum number of distinct inputs', () => {
    const b = emptyBucket(ref);
    const v = vec(songs[0]!.features);
    for (let i = 0; i < 50; i++) addRow(b, ref, v);
    addDistinct(b, ref, v, fakeModel(v));
    const r = driftReport(ref, b, ThresholdsSchema.parse({}));
    expect(r.status).toBe('insufficient-data');
    expect([r.rows, r.distinct]).toEqual([50, 1]);
  });
});
