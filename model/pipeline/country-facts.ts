/**
 * Per-country reading aids for the manifest (`countryFacts`, `featureBounds`): how often songs chart in each
 * country (base rate on the training songs), how far to trust the model there (held-out AUC with a 95%
 * Hanley–McNeil interval and the counts it rests on), and the 1st–99th percentile of each feature over the
 * training songs, so the device's suggested changes stay inside what real charting songs look like.
 */
import {
  COUNTRY_CODES,
  type CountryCode,
  type CountryFact,
  type CountryFacts,
  FEATURE_NAMES,
  type FeatureBounds,
  type FeatureName,
} from '../contract/index.ts';
import { quantile } from './reference-profile.ts';

/**
 * 95% interval of an AUC from its positive and negative counts (Hanley & McNeil 1982). Wide with few
 * positives, which is the point: 3 charting test songs cannot show that a country is ranked well.
 */
export function aucInterval(auc: number, positives: number, negatives: number): [number, number] {
  const q1 = auc / (2 - auc);
  const q2 = (2 * auc * auc) / (1 + auc);
  const variance =
    (auc * (1 - auc) + (positives - 1) * (q1 - auc * auc) + (negatives - 1) * (q2 - auc * auc)) /
    (positives * negatives);
  const half = 1.96 * Math.sqrt(Math.max(0, variance));
  return [Math.max(0, auc - half), Math.min(1, auc + half)];
}

/**
 * @param trainY 0/1 labels of the training songs (train + validation), rows × 72
 * @param testY 0/1 labels of the held-out songs, rows × 72
 * @param perCountryAuc the held-out AUC per country (manifest.evaluation.perCountryAuc)
 */
export function countryFacts(
  trainY: Float32Array,
  trainRows: number,
  testY: Float32Array,
  testRows: number,
  perCountryAuc: Readonly<Record<CountryCode, number | null>>,
): CountryFacts {
  const k = COUNTRY_CODES.length;
  const byCountry = {} as Record<CountryCode, CountryFact>;
  COUNTRY_CODES.forEach((code, c) => {
    let charted = 0;
    for (let r = 0; r < trainRows; r++) charted += trainY[r * k + c] as number;
    let positives = 0;
    for (let r = 0; r < testRows; r++) positives += testY[r * k + c] as number;
    const negatives = testRows - positives;
    const auc = perCountryAuc[code] ?? null;
    const interval = auc !== null && positives > 0 && negatives > 0 ? aucInterval(auc, positives, negatives) : null;
    byCountry[code] = {
      baseRate: trainRows > 0 ? charted / trainRows : 0,
      auc,
      aucLow: interval ? interval[0] : null,
      aucHigh: interval ? interval[1] : null,
      positives,
      negatives,
    };
  });
  return { songs: trainRows, byCountry };
}

/** Per-feature [low, high] quantiles of raw features (rows × 13), by default the 1st and 99th percentile. */
export function featureBounds(
  rawX: Float32Array,
  rows: number,
  quantiles: [number, number] = [0.01, 0.99],
): FeatureBounds {
  const cols = FEATURE_NAMES.length;
  const byFeature = {} as Record<FeatureName, { low: number; high: number }>;
  FEATURE_NAMES.forEach((name, c) => {
    const values = Float64Array.from({ length: rows }, (_, r) => rawX[r * cols + c] as number).sort();
    const v = Array.from(values);
    // Six significant digits: the raw values are float32, more digits would only be noise.
    const round = (x: number) => Number(x.toPrecision(6));
    byFeature[name] = { low: round(quantile(v, quantiles[0])), high: round(quantile(v, quantiles[1])) };
  });
  return { songs: rows, quantiles, byFeature };
}
