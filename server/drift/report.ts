/**
 * Turns a window's songs (each counted once, weighted per device) and the
 * version's reference profile into a drift report.
 *
 * Feature drift is decided on effect size with the test as a guard: a
 * feature warns (alerts) when its PSI or Jensen–Shannon distance reaches the
 * warn (alert) threshold *and* the KS test on the window's distinct songs,
 * corrected across the 13 features, is significant. Each feature says which
 * statistic crossed which threshold, or why it did not alarm.
 *
 * Prediction drift compares the top-1 country and entropy PSI with a
 * bootstrap null drawn from the reference at the same n, so a quiet small
 * window is quiet: it alarms when the PSI is above the null's 99th
 * percentile and its excess over the null's median reaches the threshold.
 */
import { COUNTRY_CODES, FEATURE_NAMES, type ReferenceProfile } from '../../model/contract/index.ts';
import {
  bhAdjust,
  holmAdjust,
  jsDistance,
  ksTest,
  type NullDistribution,
  psi,
  psiNull,
} from '../../model/drift/stats.ts';
import type { Thresholds } from '../config.ts';
import type { DriftBucket } from './bucket.ts';
import type { WindowSample } from './window-songs.ts';

export type DriftStatus = 'ok' | 'warn' | 'alert' | 'insufficient-data';

/** Which statistic decided a status, against which threshold, with what evidence. */
export interface Decision {
  /** The effect size that crossed (or came closest to) its threshold. */
  statistic: 'psi' | 'js' | 'psi-excess';
  value: number;
  threshold: number;
  /** The guard: KS p-value (adjusted) for features, the null's 99th percentile for outputs. */
  evidence: string;
  /** One sentence an admin can read. */
  reason: string;
}

/**
 * One feature's drift in a server window (the dashboard's rows). `psi` is raw PSI over the window's
 * song-once weighted counts (proportions floored at 1e-4, no smoothing): not the device's smoothed,
 * noise-corrected `DeviceFeatureDrift.excessPsi`.
 */
export interface WindowFeatureDrift {
  name: string;
  /** Raw PSI against the reference histogram. */
  psi: number;
  ksStatistic: number;
  ksPValue: number;
  /** Adjusted across the 13 features (Holm by default, or Benjamini–Hochberg: `thresholds.ksCorrection`). */
  ksPValueAdjusted: number;
  jsDistance: number;
  status: DriftStatus;
  decision: Decision | null;
  /** Bin edges and counts so a chart can draw both histograms. */
  edges: number[];
  reference: number[];
  /** Weighted song counts per bin (each song once in the window). */
  observed: number[];
  /** Raw log rows per bin, all traffic kinds (what song-once counting protects against). */
  observedRaw: number[];
}

export interface OutputDrift {
  top1Psi: number;
  top1JsDistance: number;
  /** PSI the reference alone gives at this n. */
  top1Null: NullDistribution;
  entropyPsi: number;
  entropyNull: NullDistribution;
  status: DriftStatus;
  decision: Decision | null;
  /** Shares of the top-1 country, reference vs observed, per country (COUNTRY_CODES order). */
  top1Reference: number[];
  top1Observed: number[];
  meanProbabilityReference: number[];
  /** Mean probability per country over the window's logs (all kinds, each input once per day). */
  meanProbabilityObserved: number[];
  /** Largest absolute change of a country's mean probability, and which country. */
  maxMeanShift: { country: string; delta: number };
  entropyEdges: number[];
  entropyReference: number[];
  entropyObserved: number[];
}

export interface DriftReport {
  /** Raw log rows in the window (all kinds). */
  rows: number;
  /** Distinct songs in the window for the chosen traffic kinds: each song once. */
  distinct: number;
  /** Kish's effective sample size after the per-device weights (the n of every p-value). */
  effectiveN: number;
  /** Songs per device, and the weight each device's songs got. */
  devices: Record<string, number>;
  deviceWeights: Record<string, number>;
  status: DriftStatus;
  /** Why the window has no status, when it has too few songs. */
  note: string | null;
  features: WindowFeatureDrift[];
  outputs: OutputDrift;
}

const RANK: Record<DriftStatus, number> = { 'insufficient-data': 0, ok: 1, warn: 2, alert: 3 };
export function worst(a: DriftStatus, b: DriftStatus): DriftStatus {
  return RANK[a] >= RANK[b] ? a : b;
}

const share = (xs: readonly number[]) => {
  const n = xs.reduce((a, b) => a + b, 0);
  return xs.map((x) => (n > 0 ? x / n : 0));
};

// Nulls depend only on the reference histogram and n: cache them (a few hundred bootstrap draws each).
const nullCache = new Map<string, NullDistribution>();
function cachedNull(ref: readonly number[], n: number): NullDistribution {
  // n rounded to 2 significant digits: the null changes slowly with n.
  const mag = 10 ** Math.max(0, Math.floor(Math.log10(Math.max(1, n))) - 1);
  const rn = Math.max(1, Math.round(n / mag) * mag);
  const key = `${ref.join(',')}|${rn}`;
  let v = nullCache.get(key);
  if (!v) {
    if (nullCache.size > 2000) nullCache.clear();
    v = psiNull(ref, rn);
    nullCache.set(key, v);
  }
  return v;
}

function featureDecision(
  p: number,
  js: number,
  pAdj: number,
  t: Thresholds,
  n: number,
): { status: DriftStatus; decision: Decision } {
  const psiLevel: DriftStatus = p >= t.psiAlert ? 'alert' : p >= t.psiWarn ? 'warn' : 'ok';
  const jsLevel: DriftStatus = js >= t.jsAlert ? 'alert' : js >= t.jsWarn ? 'warn' : 'ok';
  const effect = worst(psiLevel, jsLevel);
  // Report the statistic that is furthest past (or closest to) its warn/alert threshold.
  const psiT = psiLevel === 'alert' ? t.psiAlert : t.psiWarn;
  const jsT = jsLevel === 'alert' ? t.jsAlert : t.jsWarn;
  const usePsi = RANK[psiLevel] > RANK[jsLevel] || (RANK[psiLevel] === RANK[jsLevel] && p / psiT >= js / jsT);
  const statistic: Decision['statistic'] = usePsi ? 'psi' : 'js';
  const value = usePsi ? p : js;
  const threshold = usePsi ? psiT : jsT;
  const name = usePsi ? 'PSI' : 'JS distance';
  const evidence = `KS p(adj) ${pAdj < 1e-4 ? pAdj.toExponential(1) : pAdj.toFixed(4)} on ${Math.round(n)} songs`;
  const significant = pAdj < t.ksPValue;
  const decide = (status: DriftStatus, reason: string) => ({
    status,
    decision: { statistic, value, threshold, evidence, reason },
  });
  if (effect === 'ok') return decide('ok', `${name} ${value.toFixed(3)} is under the ${threshold} warn threshold`);
  if (!significant) {
    return decide(
      'ok',
      `${name} ${value.toFixed(3)} ≥ ${threshold}, but the KS test on ${Math.round(n)} songs is not significant (p ${pAdj.toFixed(3)} ≥ ${t.ksPValue}): not enough evidence`,
    );
  }
  return decide(effect, `${name} ${value.toFixed(3)} ≥ ${effect} threshold ${threshold}; ${evidence} < ${t.ksPValue}`);
}

function outputDecision(
  top1: number,
  top1Null: NullDistribution,
  ent: number,
  entNull: NullDistribution,
  t: Thresholds,
): { status: DriftStatus; decision: Decision } {
  const judge = (label: string, value: number, nul: NullDistribution) => {
    const excess = value - nul.median;
    const beyond = value > nul.q99;
    const status: DriftStatus =
      beyond && excess >= t.outputPsiAlert ? 'alert' : beyond && excess >= t.outputPsiWarn ? 'warn' : 'ok';
    const threshold = status === 'alert' ? t.outputPsiAlert : t.outputPsiWarn;
    const evidence = `${label} PSI ${value.toFixed(3)}; the reference alone gives ${nul.median.toFixed(3)} (99th percentile ${nul.q99.toFixed(3)}) at n = ${nul.n}`;
    const reason =
      status === 'ok'
        ? `${label} PSI ${value.toFixed(3)} exceeds what chance gives at this n by ${excess.toFixed(3)} (< ${t.outputPsiWarn})${beyond ? '' : ', within the null'}`
        : `${label} PSI exceeds chance by ${excess.toFixed(3)} ≥ ${status} threshold ${threshold} (${evidence})`;
    return { status, decision: { statistic: 'psi-excess' as const, value: excess, threshold, evidence, reason } };
  };
  const a = judge('top-1 country', top1, top1Null);
  const b = judge('entropy', ent, entNull);
  return RANK[b.status] > RANK[a.status] || (a.status === b.status && b.decision.value > a.decision.value) ? b : a;
}

/**
 * @param sample the window's songs (each once, device-weighted) for the chosen traffic kinds
 * @param raw the window's daily buckets merged (raw row counts and mean probabilities, all kinds)
 */
export function driftReport(ref: ReferenceProfile, sample: WindowSample, raw: DriftBucket, t: Thresholds): DriftReport {
  const enough = sample.songs >= t.minDistinct;
  const n = sample.effectiveN;
  const ks = ref.features.map((f, i) => ksTest(f.histogram.counts, sample.features[i] as number[], { actual: n }));
  const rawP = ks.map((k) => k.pValue);
  const adjusted = t.ksCorrection === 'bh' ? bhAdjust(rawP) : holmAdjust(rawP);
  const features = ref.features.map((f, i): WindowFeatureDrift => {
    const observed = sample.features[i] as number[];
    const p = psi(f.histogram.counts, observed);
    const js = jsDistance(f.histogram.counts, observed);
    const k = ks[i] as { statistic: number; pValue: number };
    const adj = adjusted[i] as number;
    const d = featureDecision(p, js, adj, t, n);
    return {
      name: FEATURE_NAMES[i] ?? f.name,
      psi: p,
      ksStatistic: k.statistic,
      ksPValue: k.pValue,
      ksPValueAdjusted: adj,
      jsDistance: js,
      status: enough ? d.status : 'insufficient-data',
      decision: enough ? d.decision : null,
      edges: f.histogram.edges,
      reference: f.histogram.counts,
      observed,
      observedRaw: raw.featuresRaw[i] as number[],
    };
  });
  const top1Psi = psi(ref.outputs.top1Counts, sample.top1);
  const entropyPsi = psi(ref.outputs.entropy.counts, sample.entropy);
  const nullN = Math.max(1, Math.round(n));
  const top1Null = cachedNull(ref.outputs.top1Counts, nullN);
  const entropyNull = cachedNull(ref.outputs.entropy.counts, nullN);
  const od = outputDecision(top1Psi, top1Null, entropyPsi, entropyNull, t);
  const meanObserved = raw.probSum.map((s) => (raw.distinct > 0 ? s / raw.distinct : 0));
  let maxMeanShift = { country: COUNTRY_CODES[0] as string, delta: 0 };
  meanObserved.forEach((m, i) => {
    const d = m - (ref.outputs.meanProbability[i] as number);
    if (Math.abs(d) > Math.abs(maxMeanShift.delta)) maxMeanShift = { country: COUNTRY_CODES[i] as string, delta: d };
  });
  const outputs: OutputDrift = {
    top1Psi,
    top1JsDistance: jsDistance(ref.outputs.top1Counts, sample.top1),
    top1Null,
    entropyPsi,
    entropyNull,
    status: enough ? od.status : 'insufficient-data',
    decision: enough ? od.decision : null,
    top1Reference: share(ref.outputs.top1Counts),
    top1Observed: share(sample.top1),
    meanProbabilityReference: ref.outputs.meanProbability,
    meanProbabilityObserved: meanObserved,
    maxMeanShift,
    entropyEdges: ref.outputs.entropy.edges,
    entropyReference: ref.outputs.entropy.counts,
    entropyObserved: sample.entropy,
  };
  const status = enough
    ? features.reduce<DriftStatus>((s, f) => worst(s, f.status), outputs.status)
    : 'insufficient-data';
  return {
    rows: raw.rows,
    distinct: sample.songs,
    effectiveN: n,
    devices: sample.devices,
    deviceWeights: sample.deviceWeights,
    status,
    note: enough
      ? null
      : `not enough data: ${sample.songs} distinct songs in the window, ${t.minDistinct} needed before any statistic is judged`,
    features,
    outputs,
  };
}
