/**
 * The training reference profile that drift is measured against, and the one
 * binning rule that pipeline, server and device all use for it.
 */
import { z } from 'zod';
import { COUNTRY_CODES } from './countries.ts';
import { FEATURE_NAMES } from './features.ts';

/**
 * Histogram on fixed cut points. `edges` are the sorted inner cut points;
 * there are `edges.length + 1` bins and bin i holds values in
 * (edges[i-1], edges[i]] (the first bin is open below, the last open above).
 * Categorical features use midpoints as edges (e.g. mode: [0.5]).
 */
export const HistogramSchema = z
  .object({
    edges: z.array(z.number().finite()),
    counts: z.array(z.number().int().nonnegative()),
  })
  .refine((h) => h.counts.length === h.edges.length + 1, 'counts must have edges.length + 1 entries')
  .refine((h) => h.edges.every((e, i) => i === 0 || e > (h.edges[i - 1] as number)), 'edges must increase');
export type Histogram = z.infer<typeof HistogramSchema>;

/** Index of the bin holding v: the number of edges strictly below v. Binary search. */
export function binIndex(edges: ArrayLike<number>, v: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((edges[mid] as number) < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export const FeatureReferenceSchema = z.object({
  name: z.enum(FEATURE_NAMES),
  kind: z.enum(['continuous', 'categorical']),
  histogram: HistogramSchema,
  mean: z.number().finite(),
  std: z.number().finite().nonnegative(),
});
export type FeatureReference = z.infer<typeof FeatureReferenceSchema>;

/** Reference of the model's outputs on the songs it learned from (train + validation). */
export const OutputReferenceSchema = z.object({
  meanProbability: z.array(z.number().min(0).max(1)).length(COUNTRY_CODES.length),
  /** How many reference songs had each country as their top-1 output. */
  top1Counts: z.array(z.number().int().nonnegative()).length(COUNTRY_CODES.length),
  /** Entropy (bits) of the normalised output vector, binned. */
  entropy: HistogramSchema,
});
export type OutputReference = z.infer<typeof OutputReferenceSchema>;

export const ReferenceProfileSchema = z.object({
  /** Distinct songs the profile was computed on. */
  songs: z.number().int().positive(),
  features: z.array(FeatureReferenceSchema).length(FEATURE_NAMES.length),
  outputs: OutputReferenceSchema,
});
export type ReferenceProfile = z.infer<typeof ReferenceProfileSchema>;

/** Shannon entropy in bits of a probability vector after normalising it to sum 1. */
export function outputEntropy(p: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) s += p[i] as number;
  if (s <= 0) return 0;
  let h = 0;
  for (let i = 0; i < p.length; i++) {
    const q = (p[i] as number) / s;
    if (q > 0) h -= q * Math.log2(q);
  }
  return h;
}
