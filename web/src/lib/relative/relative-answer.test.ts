import { describe, expect, it } from 'vitest';
import { COUNTRY_CODES } from '../../../../model/contract/countries.ts';
import type { CountryFacts } from '../../../../model/contract/manifest.ts';
import { buildPercentiles, percentileOf } from './catalogue-percentiles.ts';
import { formatLift, formatPercentile, relativeAnswers, reliabilityOf } from './relative-answer.ts';

const K = COUNTRY_CODES.length;

function facts(baseRate: number, auc: number | null, aucLow: number | null): CountryFacts {
  return {
    songs: 100,
    byCountry: Object.fromEntries(
      COUNTRY_CODES.map((c) => [c, { baseRate, auc, aucLow, aucHigh: null, positives: 5, negatives: 95 }]),
    ) as CountryFacts['byCountry'],
  };
}

describe('catalogue percentiles', () => {
  it('places a probability among the catalogue songs of one country, ties counted half', async () => {
    // 100 songs; country 0 scores r/100, country 1 scores everyone 0.5.
    const rows = 100;
    const out = new Float32Array(rows * K);
    for (let r = 0; r < rows; r++) {
      out[r * K] = r / 100;
      out[r * K + 1] = 0.5;
    }
    const p = await buildPercentiles('v1|c1', out, rows, K, 0);
    expect(percentileOf(p, 0, 0.995)).toBe(100);
    expect(percentileOf(p, 0, 0)).toBe(0.5);
    expect(percentileOf(p, 0, 0.9)).toBeCloseTo(90.5, 5);
    expect(percentileOf(p, 1, 0.5)).toBe(50);
    expect(percentileOf(p, 1, 0.49)).toBe(0);
  });
});

describe('relative answers', () => {
  it('gives lift over the base rate and the percentile; colour score follows the percentile when there is one', async () => {
    const out = new Float32Array(K).fill(0.03);
    out[0] = 0.12;
    const a = relativeAnswers(out, facts(0.03, 0.8, 0.7), null);
    expect(a[0]!.lift).toBeCloseTo(4, 5);
    expect(a[1]!.lift).toBeCloseTo(1, 5);
    // Without the catalogue: lift on a log scale, ×1 = 50, ×4 = 100.
    expect(a[0]!.score).toBeCloseTo(100, 5);
    expect(a[1]!.score).toBeCloseTo(50, 5);
    const cat = new Float32Array(10 * K);
    for (let r = 0; r < 10; r++) for (let c = 0; c < K; c++) cat[r * K + c] = 0.01 * (r + 1);
    const withCat = relativeAnswers(out, facts(0.03, 0.8, 0.7), await buildPercentiles('k', cat, 10, K, 0));
    expect(withCat[0]!.percentile).toBe(100);
    expect(withCat[0]!.score).toBe(100);
    expect(withCat[1]!.percentile).toBe(25);
    expect(formatLift(withCat[0]!.lift!)).toBe('×4.0');
    expect(formatPercentile(97.4)).toBe('top 3%');
    expect(formatPercentile(20)).toBe('bottom 20%');
  });

  it('marks a country weak when its held-out AUC is under 0.6, uncertain when the interval reaches chance', () => {
    expect(reliabilityOf(facts(0.03, 0.55, 0.3).byCountry.AE)).toBe('weak');
    expect(reliabilityOf(facts(0.03, null, null).byCountry.AE)).toBe('weak');
    expect(reliabilityOf(facts(0.03, 0.75, 0.45).byCountry.AE)).toBe('uncertain');
    expect(reliabilityOf(facts(0.03, 0.8, 0.62).byCountry.AE)).toBe('ok');
    expect(reliabilityOf(undefined)).toBe('unknown');
  });
});
