/**
 * Mergeable drift statistics for one (model version, UTC day) bucket:
 * histograms on the version's reference bin edges, filled at ingest. Feature
 * histograms come twice: over distinct inputs (a fingerprint counts once per
 * day) and over raw rows. Output statistics are over distinct inputs.
 * Buckets add up elementwise, so a report over any range of days merges a few
 * small objects and never rescans logs.
 */
import { binIndex, COUNTRY_CODES, outputEntropy, type ReferenceProfile } from '../../model/contract/index.ts';

export interface DriftBucket {
  /** Raw log rows. */
  rows: number;
  /** Distinct inputs (fingerprints), counted once per day. */
  distinct: number;
  /** Per feature, counts of distinct inputs per reference bin. */
  features: number[][];
  /** Per feature, counts of raw rows per reference bin. */
  featuresRaw: number[][];
  /** Distinct inputs whose top-1 output was each country. */
  top1: number[];
  /** Distinct inputs per reference entropy bin. */
  entropy: number[];
  /** Sum of each country's probability over distinct inputs (mean = / distinct). */
  probSum: number[];
}

export function emptyBucket(ref: ReferenceProfile): DriftBucket {
  return {
    rows: 0,
    distinct: 0,
    features: ref.features.map((f) => new Array<number>(f.histogram.counts.length).fill(0)),
    featuresRaw: ref.features.map((f) => new Array<number>(f.histogram.counts.length).fill(0)),
    top1: new Array<number>(COUNTRY_CODES.length).fill(0),
    entropy: new Array<number>(ref.outputs.entropy.counts.length).fill(0),
    probSum: new Array<number>(COUNTRY_CODES.length).fill(0),
  };
}

/** Adds one to each feature's histogram, in the reference bin its input falls in. */
function countInputs(histograms: number[][], ref: ReferenceProfile, inputs: readonly number[]): void {
  for (let f = 0; f < ref.features.length; f++) {
    const edges = (ref.features[f] as ReferenceProfile['features'][number]).histogram.edges;
    const h = histograms[f] as number[];
    const i = binIndex(edges, inputs[f] as number);
    h[i] = (h[i] as number) + 1;
  }
}

/** Counts one raw row (inputs in model order). */
export function addRow(b: DriftBucket, ref: ReferenceProfile, inputs: readonly number[]): void {
  b.rows++;
  countInputs(b.featuresRaw, ref, inputs);
}

/** Counts one input the first time it is seen in this bucket's day. */
export function addDistinct(
  b: DriftBucket,
  ref: ReferenceProfile,
  inputs: readonly number[],
  outputs: readonly number[],
): void {
  b.distinct++;
  countInputs(b.features, ref, inputs);
  let top = 0;
  for (let c = 0; c < outputs.length; c++) {
    const p = outputs[c] as number;
    b.probSum[c] = (b.probSum[c] as number) + p;
    if (p > (outputs[top] as number)) top = c;
  }
  b.top1[top] = (b.top1[top] as number) + 1;
  const e = binIndex(ref.outputs.entropy.edges, outputEntropy(outputs));
  b.entropy[e] = (b.entropy[e] as number) + 1;
}

function addInto(target: number[], src: readonly number[]): void {
  for (let i = 0; i < target.length; i++) target[i] = (target[i] as number) + ((src[i] as number) ?? 0);
}

/** a += b (same version, so same shapes). */
export function mergeInto(a: DriftBucket, b: DriftBucket): DriftBucket {
  a.rows += b.rows;
  a.distinct += b.distinct;
  for (let f = 0; f < a.features.length; f++) {
    addInto(a.features[f] as number[], b.features[f] as number[]);
    addInto(a.featuresRaw[f] as number[], b.featuresRaw[f] as number[]);
  }
  addInto(a.top1, b.top1);
  addInto(a.entropy, b.entropy);
  addInto(a.probSum, b.probSum);
  return a;
}
