/**
 * A probability read against what is typical for its country: lift over the country's base rate (how often a
 * training song charted there), the percentile among catalogue songs there, and whether the model ranks songs
 * there well enough to lean on (held-out AUC from the manifest). One "relative score" (the percentile when
 * the catalogue is scored, else the lift mapped onto 0–100) drives the map's colour and the list's bars.
 */
import { COUNTRY_CODES } from '../../../../model/contract/countries.ts';
import type { CountryFact, CountryFacts } from '../../../../model/contract/manifest.ts';
import { type CataloguePercentiles, percentileOf } from './catalogue-percentiles.ts';

/** Held-out AUC below this: the model ranks songs here little better than chance. */
export const WEAK_AUC = 0.6;

export type Reliability = 'weak' | 'uncertain' | 'ok' | 'unknown';

export interface RelativeAnswer {
  readonly p: number;
  /** Share of training songs that charted here; null when the manifest has no country facts. */
  readonly baseRate: number | null;
  /** p / baseRate: 2 means twice as likely as a typical song to chart here. */
  readonly lift: number | null;
  /** Percentile (0–100) among catalogue songs in this country; null until the catalogue is scored. */
  readonly percentile: number | null;
  /** 0–100 for colour and bar length: the percentile, else the lift on a log scale (×1 → 50, ×4 → 100). */
  readonly score: number;
  readonly reliability: Reliability;
}

/**
 * weak: AUC under 0.6 (or none); uncertain: its 95% interval reaches down to chance (few held-out songs);
 * ok otherwise.
 */
export function reliabilityOf(fact: CountryFact | undefined): Reliability {
  if (!fact) return 'unknown';
  if (fact.auc === null || fact.auc < WEAK_AUC) return 'weak';
  if (fact.aucLow !== null && fact.aucLow < 0.5) return 'uncertain';
  return 'ok';
}

function liftScore(lift: number): number {
  return Math.max(0, Math.min(100, 50 + 25 * Math.log2(lift)));
}

export function relativeAnswers(
  outputs: ArrayLike<number>,
  facts: CountryFacts | undefined,
  percentiles: CataloguePercentiles | null,
): RelativeAnswer[] {
  return COUNTRY_CODES.map((code, c) => {
    const p = outputs[c] ?? 0;
    const fact = facts?.byCountry[code];
    const baseRate = fact && fact.baseRate > 0 ? fact.baseRate : null;
    const lift = baseRate ? p / baseRate : null;
    const percentile = percentiles ? percentileOf(percentiles, c, p) : null;
    const score = percentile ?? (lift !== null ? liftScore(lift) : p * 100);
    return { p, baseRate, lift, percentile, score, reliability: reliabilityOf(fact) };
  });
}

/** "×2.3" (one decimal under 10). */
export function formatLift(lift: number): string {
  return `×${lift < 10 ? lift.toFixed(1) : Math.round(lift)}`;
}

/** "top 3%" above the median, "bottom 20%" below it (as a marketer says it). */
export function formatPercentile(pct: number): string {
  if (pct >= 50) return `top ${Math.max(1, Math.round(100 - pct))}%`;
  return `bottom ${Math.max(1, Math.round(pct))}%`;
}

/** Steps of the relative score (0–100), shared by map, legend and list. Darker = more unusual for the country. */
export const RELATIVE_STEPS: readonly { readonly from: number; readonly colour: string; readonly label: string }[] = [
  { from: 0, colour: '#f4f1de', label: 'bottom half' },
  { from: 50, colour: '#c7e9b4', label: 'top half' },
  { from: 75, colour: '#7fcdbb', label: 'top 25%' },
  { from: 90, colour: '#2c9fb8', label: 'top 10%' },
  { from: 97, colour: '#253494', label: 'top 3%' },
];

export function relativeColour(score: number): string {
  let c = RELATIVE_STEPS[0]!.colour;
  for (const s of RELATIVE_STEPS) if (score >= s.from) c = s.colour;
  return c;
}

/** Legend text of a step: percentile words when the catalogue is scored, else the lift it stands for. */
export function relativeStepLabel(step: (typeof RELATIVE_STEPS)[number], byPercentile: boolean): string {
  if (byPercentile) return step.label;
  if (step.from === 0) return 'below ×1';
  return `${formatLift(2 ** ((step.from - 50) / 25))}+`;
}
