import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ManifestSchema, toVector } from '../../model/contract/index.ts';
import { ThresholdsSchema } from '../config.ts';
import { buildReference, catalogueSongs, fakeModel } from '../testing/fixtures.ts';
import { emptyBucket } from './bucket.ts';
import { driftReport } from './report.ts';
import { deviceWeights, emptySample, sampleOf, songBins, type WindowSong } from './window-songs.ts';

const songs = catalogueSongs().slice(0, 300);
const ref = buildReference(songs.map((s) => s.features));

function sampleOfShift(shift: number, n = songs.length) {
  const list: WindowSong[] = songs.slice(0, n).map((s, i) => {
    const v = toVector({ ...s.features, energy: Math.min(1, s.features.energy + shift) });
    return { key: s.id, device: `d${i % 3}`, days: ['2026-11-01'], bins: JSON.parse(songBins(ref, v, fakeModel(v))) };
  });
  return sampleOf(ref, list, 0.5);
}

describe('driftReport', () => {
  it('is quiet on the reference songs themselves and flags a shifted feature, naming the statistic', () => {
    const t = ThresholdsSchema.parse({});
    const same = driftReport(ref, sampleOfShift(0), emptyBucket(ref), t);
    expect(same.status).toBe('ok');
    expect(same.features.every((f) => f.psi < 1e-9)).toBe(true);
    const shifted = driftReport(ref, sampleOfShift(0.25), emptyBucket(ref), t);
    const energy = shifted.features.find((f) => f.name === 'energy');
    expect(energy?.status).toBe('alert');
    expect(energy?.decision?.statistic).toMatch(/^(psi|js)$/);
    expect(energy?.decision?.reason).toMatch(/threshold/);
    expect(shifted.features.filter((f) => f.status !== 'ok').map((f) => f.name)).toEqual(['energy']);
  });
  it('needs the KS evidence as well as the effect size', () => {
    const strict = ThresholdsSchema.parse({ ksPValue: 1e-300 });
    const r = driftReport(ref, sampleOfShift(0.25), emptyBucket(ref), strict);
    const energy = r.features.find((f) => f.name === 'energy');
    expect(energy?.psi).toBeGreaterThan(0.25);
    expect(energy?.status).toBe('ok');
    expect(energy?.decision?.reason).toMatch(/not enough evidence/);
  });
  it('uses the configured multiple-testing correction', () => {
    const holm = driftReport(
      ref,
      sampleOfShift(0.03),
      emptyBucket(ref),
      ThresholdsSchema.parse({ ksCorrection: 'holm' }),
    );
    const bh = driftReport(ref, sampleOfShift(0.03), emptyBucket(ref), ThresholdsSchema.parse({ ksCorrection: 'bh' }));
    const e1 = holm.features.find((f) => f.name === 'energy');
    const e2 = bh.features.find((f) => f.name === 'energy');
    expect(e1?.ksPValue).toBe(e2?.ksPValue);
    // BH is never more conservative than Holm.
    expect(e2?.ksPValueAdjusted).toBeLessThanOrEqual(e1?.ksPValueAdjusted ?? 0);
  });
  it('says "not enough data" and judges nothing below the minimum number of songs', () => {
    const r = driftReport(ref, sampleOfShift(0.25, 50), emptyBucket(ref), ThresholdsSchema.parse({}));
    expect(r.status).toBe('insufficient-data');
    expect(r.distinct).toBe(50);
    expect(r.note).toMatch(/not enough data/);
    expect(r.features.every((f) => f.decision === null && f.status === 'insufficient-data')).toBe(true);
  });
});

describe('output drift against the null at the same n', () => {
  const manifest = ManifestSchema.parse(
    JSON.parse(readFileSync(new URL('../../public/models/default/manifest.json', import.meta.url), 'utf8')),
  );
  const real = manifest.reference;
  // Quiet windows: n songs whose top-1 country and entropy bin are drawn from the reference itself.
  function quiet(n: number, seed: number) {
    let a = seed;
    const random = () => {
      a = (a * 1103515245 + 12345) % 2147483648;
      return a / 2147483648;
    };
    const draw = (counts: readonly number[]) => {
      const total = counts.reduce((x, y) => x + y, 0);
      let u = random() * total;
      for (let i = 0; i < counts.length; i++) {
        u -= counts[i] as number;
        if (u < 0) return i;
      }
      return counts.length - 1;
    };
    const s = emptySample(real);
    for (let i = 0; i < n; i++) {
      const t = draw(real.outputs.top1Counts);
      const e = draw(real.outputs.entropy.counts);
      s.top1[t] = (s.top1[t] as number) + 1;
      s.entropy[e] = (s.entropy[e] as number) + 1;
      real.features.forEach((f, k) => {
        const b = draw(f.histogram.counts);
        (s.features[k] as number[])[b] = ((s.features[k] as number[])[b] as number) + 1;
      });
    }
    s.songs = n;
    s.effectiveN = n;
    return s;
  }

  it('is quiet at 100 to 10,000 songs, where the raw PSI alone would alarm at small n', () => {
    const t = ThresholdsSchema.parse({});
    for (const n of [100, 300, 1000, 3000, 10_000]) {
      for (const seed of [1, 2, 3]) {
        const r = driftReport(real, quiet(n, seed * 7919 + n), emptyBucket(real), t);
        expect(r.outputs.status, `n=${n} seed=${seed}: ${r.outputs.decision?.reason}`).toBe('ok');
        expect(r.status, `n=${n}`).toBe('ok');
      }
    }
    expect(driftReport(real, quiet(100, 5), emptyBucket(real), t).outputs.top1Psi).toBeGreaterThan(t.outputPsiWarn);
  });

  it('flags a real change of the top-1 mix', () => {
    const s = quiet(1000, 11);
    // Half of the window's songs move to one country that is rarely the top-1 in training.
    const rare = real.outputs.top1Counts.indexOf(Math.min(...real.outputs.top1Counts));
    s.top1 = s.top1.map((c) => c / 2);
    s.top1[rare] = (s.top1[rare] as number) + 500;
    const r = driftReport(real, s, emptyBucket(real), ThresholdsSchema.parse({}));
    expect(r.outputs.status).toBe('alert');
    expect(r.outputs.decision?.statistic).toBe('psi-excess');
  });
});

describe('deviceWeights', () => {
  it('weights a dominating device down to the maximum share and leaves balanced fleets alone', () => {
    const w = deviceWeights({ a: 900, b: 50, c: 50 }, 0.5);
    expect((w.a as number) * 900).toBeCloseTo(100, 6);
    expect([w.b, w.c]).toEqual([1, 1]);
    expect(deviceWeights({ a: 40, b: 30, c: 30 }, 0.5)).toEqual({ a: 1, b: 1, c: 1 });
    expect(deviceWeights({ a: 1000 }, 0.5)).toEqual({ a: 1 });
  });
});
