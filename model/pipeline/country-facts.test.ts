import { describe, expect, it } from 'vitest';
import { COUNTRY_CODES, CountryFactsSchema, FEATURE_NAMES, FeatureBoundsSchema } from '../contract/index.ts';
import { aucInterval, countryFacts, featureBounds } from './country-facts.ts';

const K = COUNTRY_CODES.length;

describe('countryFacts', () => {
  it('counts base rates on the training songs and gives each AUC an interval that narrows with evidence', () => {
    // 4 training songs: AE charted by 1, AR by all 4. 10 test songs: AE charted by 2, AR by none.
    const trainY = new Float32Array(4 * K);
    trainY[0] = 1;
    for (let r = 0; r < 4; r++) trainY[r * K + 1] = 1;
    const testY = new Float32Array(10 * K);
    testY[0] = 1;
    testY[K] = 1;
    const auc = Object.fromEntries(COUNTRY_CODES.map((c) => [c, c === 'AE' ? 0.8 : null])) as Record<
      (typeof COUNTRY_CODES)[number],
      number | null
    >;
    const f = CountryFactsSchema.parse(countryFacts(trainY, 4, testY, 10, auc));
    expect(f.songs).toBe(4);
    expect(f.byCountry.AE).toMatchObject({ baseRate: 0.25, auc: 0.8, positives: 2, negatives: 8 });
    expect(f.byCountry.AR).toMatchObject({ baseRate: 1, auc: null, aucLow: null, positives: 0 });
    expect(f.byCountry.AE.aucLow!).toBeLessThan(0.8);
    expect(f.byCountry.AE.aucHigh!).toBeGreaterThan(0.8);
  });

  it('Hanley–McNeil: wide with 3 positives, narrow with 300', () => {
    const [lo3, hi3] = aucInterval(0.7, 3, 280);
    const [lo300, hi300] = aucInterval(0.7, 300, 2800);
    expect(lo3).toBeLessThan(0.5);
    expect(hi3 - lo3).toBeGreaterThan(5 * (hi300 - lo300));
    expect(lo300).toBeGreaterThan(0.66);
    expect(hi300).toBeLessThan(0.74);
  });
});

describe('featureBounds', () => {
  it('takes the 1st and 99th percentile of each feature', () => {
    const rows = 101;
    const x = new Float32Array(rows * FEATURE_NAMES.length);
    for (let r = 0; r < rows; r++) x[r * FEATURE_NAMES.length + 2] = r / 100; // danceability 0 … 1
    const b = FeatureBoundsSchema.parse(featureBounds(x, rows));
    expect(b.byFeature.danceability.low).toBeCloseTo(0.01, 5);
    expect(b.byFeature.danceability.high).toBeCloseTo(0.99, 5);
    expect(b.byFeature.energy).toEqual({ low: 0, high: 0 });
  });
});
