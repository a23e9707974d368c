/**
 * The on-device drift check: do the songs this device has been predicting
 * for look like the songs the active model learned from? PSI per feature on
 * the reference profile's own bin edges (the same binning as the pipeline
 * and the server), over distinct inputs (a song predicted ten times counts
 * once). Works offline: it only reads the device's own logs and the active
 * manifest.
 */
import { FEATURE_NAMES, type Features, featureFingerprint } from '../../../../model/contract/features.ts';
import type { PredictionLog } from '../../../../model/contract/prediction-log.ts';
import { binIndex, type ReferenceProfile } from '../../../../model/contract/reference.ts';
import { psi } from '../../../../model/drift/stats.ts';

/** PSI above 0.25 is the long-standing "major shift" rule of thumb (the server's alert threshold too). */
export const DEVICE_PSI_ALERT = 0.25;
/** Fewer distinct inputs than this and PSI is mostly noise: shown, but no warning. */
export const DEVICE_MIN_DISTINCT = 50;
/** Pseudo-count per bin of the device's histogram. */
const SMOOTHING = 0.5;

/**
 * One feature's drift as the device measures it. Not the server's `WindowFeatureDrift`, whose `psi` is raw PSI
 * over a window's songs: here PSI is smoothed and then corrected for sampling noise.
 */
export interface DeviceFeatureDrift {
  readonly name: (typeof FEATURE_NAMES)[number];
  /** Smoothed PSI minus what sampling alone gives at this many songs (what the warning uses). */
  readonly excessPsi: number;
  /** PSI of the smoothed histogram (half a song added per bin), before that correction. */
  readonly smoothedPsi: number;
  /** Mean of the device's inputs vs the reference mean, for the explanation. */
  readonly mean: number;
  readonly referenceMean: number;
}

export interface DriftCheckResult {
  readonly distinct: number;
  /** Enough distinct inputs for the warning to mean something. */
  readonly enough: boolean;
  readonly warning: boolean;
  /** Highest excess PSI first. */
  readonly features: readonly DeviceFeatureDrift[];
  readonly threshold: number;
  readonly minDistinct: number;
}

export interface DriftOptions {
  readonly psiAlert?: number;
  readonly minDistinct?: number;
}

/** Compares distinct inputs with the reference profile, feature by feature. */
export function driftCheck(
  inputs: readonly Features[],
  reference: ReferenceProfile,
  options: DriftOptions = {},
): DriftCheckResult {
  const threshold = options.psiAlert ?? DEVICE_PSI_ALERT;
  const minDistinct = options.minDistinct ?? DEVICE_MIN_DISTINCT;
  const features: DeviceFeatureDrift[] = [];
  for (const name of FEATURE_NAMES) {
    const ref = reference.features.find((f) => f.name === name);
    if (!ref) continue;
    const counts = new Array<number>(ref.histogram.counts.length).fill(0);
    let sum = 0;
    for (const x of inputs) {
      const v = x[name];
      const i = binIndex(ref.histogram.edges, v);
      counts[i] = (counts[i] ?? 0) + 1;
      sum += v;
    }
    const k = counts.length;
    const n = inputs.length;
    const refTotal = ref.histogram.counts.reduce((a, b) => a + b, 0);
    // Half a song added to every bin (Jeffreys smoothing): with ~50 songs an empty bin is likely by chance, and
    // PSI's 1e-4 floor would turn each one into a large term.
    const smoothed =
      n > 0
        ? psi(
            ref.histogram.counts,
            counts.map((c) => c + SMOOTHING),
          )
        : 0;
    // PSI is a symmetric chi-square divergence: with no drift at all it is about (k − 1)(1/n + 1/N) from sampling
    // alone — 0.18 for 10 bins and 50 songs. Subtracting that keeps 0.25 meaning "a real shift" at small n.
    const noise = n > 0 ? (k - 1) * (1 / n + 1 / Math.max(1, refTotal)) : 0;
    features.push({
      name,
      excessPsi: Math.max(0, smoothed - noise),
      smoothedPsi: smoothed,
      mean: n > 0 ? sum / n : Number.NaN,
      referenceMean: ref.mean,
    });
  }
  features.sort((a, b) => b.excessPsi - a.excessPsi);
  const enough = inputs.length >= minDistinct;
  return {
    distinct: inputs.length,
    enough,
    warning: enough && features.some((f) => f.excessPsi >= threshold),
    features,
    threshold,
    minDistinct,
  };
}

/** Distinct inputs of logged predictions: one per song (or per feature vector when no song id). */
export function distinctInputs(logs: readonly PredictionLog[]): Features[] {
  const seen = new Set<string>();
  const out: Features[] = [];
  for (const l of logs) {
    const key = featureFingerprint(l.inputs);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(l.inputs);
  }
  return out;
}

export function driftFromLogs(
  logs: readonly PredictionLog[],
  reference: ReferenceProfile,
  options: DriftOptions = {},
): DriftCheckResult {
  return driftCheck(distinctInputs(logs), reference, options);
}
