/**
 * The one rule for "does this model replace that one", shared by selection (`select-candidate.ts`) and the
 * gate against production (`gate.ts`), so the two cannot disagree again: a challenger replaces the kept model
 * only when its paired advantage is above zero beyond noise on BOTH macro AUC and top-5 hit; worse beyond
 * noise on either metric is worse; anything else is a tie, and a tie keeps the simpler model (fewest real
 * parameters, which is also fewest multiply-adds with the structured kernels).
 */
import type { PairedDifference, Verdict } from './cross-validate.ts';
import { verdictOf } from './cross-validate.ts';

/** Worse on either metric is worse; better needs both; anything else is a tie. */
export function overallVerdict(d: PairedDifference): Verdict {
  const a = verdictOf(d.macroAuc);
  const b = verdictOf(d.top5Hit);
  if (a === 'worse' || b === 'worse') return 'worse';
  return a === 'better' && b === 'better' ? 'better' : 'tie';
}

export interface Challenge {
  readonly verdict: Verdict;
  /** The challenger takes the kept model's place. */
  readonly replaces: boolean;
  /** One plain sentence: per metric where the challenger stands, and which model is kept and why. */
  readonly reason: string;
}

const METRICS = ['macro AUC', 'top-5 hit'] as const;

/** Where the challenger stands on each metric, e.g. "is ahead of network on macro AUC beyond noise but ties on top-5 hit". */
export function standing(d: PairedDifference, kept: string): string {
  const v = [verdictOf(d.macroAuc), verdictOf(d.top5Hit)] as const;
  const word = (x: Verdict, withName: boolean) =>
    x === 'better'
      ? `is ahead${withName ? ` of ${kept}` : ''}`
      : x === 'worse'
        ? `is behind${withName ? ` ${kept}` : ''}`
        : `ties${withName ? ` with ${kept}` : ''}`;
  const noise = (x: Verdict) => (x === 'tie' ? '' : ' beyond noise');
  if (v[0] === v[1]) return `${word(v[0], true)} on both macro AUC and top-5 hit${noise(v[0])}`;
  return `${word(v[0], true)} on ${METRICS[0]}${noise(v[0])} but ${word(v[1], false).replace(/^is /, '')} on ${METRICS[1]}${noise(v[1])}`;
}

/**
 * Judges `challenger` against the kept model `kept` from their paired difference (challenger − kept).
 * @param challengerSimpler the challenger has fewer real parameters (each caller says what counts as simpler)
 * @example challenge('ensemble-2', 'network', d, false).reason
 *   // "ensemble-2 is ahead of network on macro AUC beyond noise but ties on top-5 hit: a tie, the simpler network is kept"
 */
export function challenge(
  challenger: string,
  kept: string,
  d: PairedDifference,
  challengerSimpler: boolean,
): Challenge {
  const verdict = overallVerdict(d);
  const replaces = verdict === 'better' || (verdict === 'tie' && challengerSimpler);
  const outcome =
    verdict === 'better'
      ? `${challenger} replaces ${kept}`
      : verdict === 'worse'
        ? `worse, ${kept} is kept`
        : challengerSimpler
          ? `a tie, the simpler ${challenger} replaces ${kept}`
          : `a tie, the simpler ${kept} is kept`;
  return { verdict, replaces, reason: `${challenger} ${standing(d, kept)}: ${outcome}` };
}
