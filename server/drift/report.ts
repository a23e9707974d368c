/**
 * Turns a merged drift bucket and the version's reference profile into a
 * drift report: per-feature PSI, KS (Holm- or BH-adjusted across the 13 features)
 * and Jensen–Shannon distance, and prediction drift on the outputs, each with
 * a status against the configured thresholds.
 */
import { COUNTRY_CODES, FEATURE_NAMES, type ReferenceProfile } from '../../model/contract/index.ts';
import { bhAdjust, holmAdjust, jsDistance, ksTest, psi } from '../../model/drift/stats.ts';
import type { Thresholds } from '../config.ts';
import type { DriftBucket } from './bucket.ts';

export type DriftStatus = 'ok' | 'warn' | 'alert' | 'insufficient-data';

export interface FeatureDrift {
  name: string;
  psi: number;
  ksStatistic: number;
  ksPValue: number;
  /** Adjusted across the 13 features (Holm by default, or Benjamini–Hochberg: `thresholds.ksCorrection`). */
  ksPValueAdjusted: number;
  jsDistance: number;
  status: DriftStatus;
  /** Bin edges and counts so a chart can draw both histograms. */
  edges: number[];
  reference: number[];
  observed: number[];
  observedRaw: number[];
}

export interface OutputDrift {
  top1Psi: number;
  top1JsDistance: number;
  entropyPsi: number;
  status: DriftStatus;
  /** Shares of the top-1 country, reference vs observed, per country (COUNTRY_CODES order). */
  top1Reference: number[];
  top1Observed: number[];
  meanProbabilityReference: number[];
  meanProbabilityObserved: number[];
  /** Largest absolute change of a country's mean probability, and which country. */
  maxMeanShift: { country: string; delta: number };
  entropyEdges: number[];
  entropyReference: number[];
  entropyObserved: number[];
}

export interface DriftReport {
  /** Raw log rows in the window. */
  rows: number;
  /** Distinct inputs: a fingerprint counts once per (version, UTC day) bucket. */
  distinct: number;
  status: DriftStatus;
  features: FeatureDrift[];
  outputs: OutputDrift;
}

const RANK: Record<DriftStatus, number> = { 'insufficient-data': 0, ok: 1, warn: 2, alert: 3 };
export function worst(a: DriftStatus, b: DriftStatus): DriftStatus {
  return RANK[a] >= RANK[b] ? a : b;
}

function level(value: number, warn: number, alert: number): DriftStatus {
  return value >= alert ? 'alert' : value >= warn ? 'warn' : 'ok';
}

const share = (xs: readonly number[]) => {
  const n = xs.reduce((a, b) => a + b, 0);
  return xs.map((x) => (n > 0 ? x / n : 0));
};

export function driftReport(ref: ReferenceProfile, b: DriftBucket, t: Thresholds): DriftReport {
  const enough = b.distinct >= t.minDistinct;
  const ks = ref.features.map((f, i) => ksTest(f.histogram.counts, b.features[i] as number[]));
  const raw = ks.map((k) => k.pValue);
  const adjusted = t.ksCorrection === 'bh' ? bhAdjust(raw) : holmAdjust(raw);
  const features = ref.features.map((f, i): FeatureDrift => {
    const observed = b.features[i] as number[];
    const p = psi(f.histogram.counts, observed);
    const js = jsDistance(f.histogram.counts, observed);
    const k = ks[i] as { statistic: number; pValue: number };
    const adj = adjusted[i] as number;
    // KS alone flags tiny but "significant" shifts on large samples, so it raises a warning, never an alert.
    let status = worst(level(p, t.psiWarn, t.psiAlert), level(js, t.jsWarn, t.jsAlert));
    if (adj < t.ksPValue) status = worst(status, 'warn');
    return {
      name: FEATURE_NAMES[i] ?? f.name,
      psi: p,
      ksStatistic: k.statistic,
      ksPValue: k.pValue,
      ksPValueAdjusted: adj,
      jsDistance: js,
      status: enough ? status : 'insufficient-data',
      edges: f.histogram.edges,
      reference: f.histogram.counts,
      observed,
      observedRaw: b.featuresRaw[i] as number[],
    };
  });
  const top1Psi = psi(ref.outputs.top1Counts, b.top1);
  const entropyPsi = psi(ref.outputs.entropy.counts, b.entropy);
  const meanObserved = b.probSum.map((s) => (b.distinct > 0 ? s / b.distinct : 0));
  let maxMeanShift = { country: COUNTRY_CODES[0] as string, delta: 0 };
  meanObserved.forEach((m, i) => {
    const d = m - (ref.outputs.meanProbability[i] as number);
    if (Math.abs(d) > Math.abs(maxMeanShift.delta)) maxMeanShift = { country: COUNTRY_CODES[i] as string, delta: d };
  });
  const outputStatus = worst(
    level(top1Psi, t.outputPsiWarn, t.outputPsiAlert),
    level(entropyPsi, t.outputPsiWarn, t.outputPsiAlert),
  );
  const outputs: OutputDrift = {
    top1Psi,
    top1JsDistance: jsDistance(ref.outputs.top1Counts, b.top1),
    entropyPsi,
    status: enough ? outputStatus : 'insufficient-data',
    top1Reference: share(ref.outputs.top1Counts),
    top1Observed: share(b.top1),
    meanProbabilityReference: ref.outputs.meanProbability,
    meanProbabilityObserved: meanObserved,
    maxMeanShift,
    entropyEdges: ref.outputs.entropy.edges,
    entropyReference: ref.outputs.entropy.counts,
    entropyObserved: b.entropy,
  };
  const status = enough
    ? features.reduce<DriftStatus>((s, f) => worst(s, f.status), outputs.status)
    : 'insufficient-data';
  return { rows: b.rows, distinct: b.distinct, status, features, outputs };
}
