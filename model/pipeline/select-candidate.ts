/**
 * Model selection on cross-validation, by the same rule as the gate (`challenge.ts`): a candidate qualifies
 * when it beats logistic regression beyond noise on both macro AUC and top-5 hit; the simplest qualifier
 * (fewest real parameters) is kept first, and each more complex one, in order of size, replaces the kept one
 * only when it is ahead of it beyond noise on BOTH metrics. Anything else is a tie and the simpler model
 * stays, because what noise cannot separate should not cost weights on the device. So whatever selection
 * keeps over a simpler candidate would also pass the gate with that candidate in production.
 */
import { type Recipe, recipeParameters } from './candidates.ts';
import { challenge, overallVerdict } from './challenge.ts';
import { type FoldRecord, pairedDifference } from './cross-validate.ts';

/** One step of the selection: a more complex qualifier against the one kept so far. */
export interface SelectionStep {
  readonly challenger: string;
  readonly kept: string;
  readonly replaces: boolean;
  readonly reason: string;
}

export interface Selection {
  /** The chosen recipe's name; `fallback` when nothing beats logistic regression beyond noise. */
  readonly chosen: string;
  readonly qualified: readonly string[];
  /** Each more complex qualifier's challenge, in order (empty with fewer than two qualifiers). */
  readonly steps: readonly SelectionStep[];
  readonly reason: string;
}

export function selectCandidate(
  folds: readonly FoldRecord[],
  recipes: readonly Recipe[],
  fallback: string,
  reference = 'logistic',
): Selection {
  const names = recipes.map((r) => r.name).filter((n) => n !== reference && n !== 'production');
  const qualified = names.filter((n) => overallVerdict(pairedDifference(folds, n, reference)) === 'better');
  if (qualified.length === 0) {
    return {
      chosen: fallback,
      qualified,
      steps: [],
      reason: `no candidate beats ${reference} beyond noise on both metrics; ${fallback} goes to the gate`,
    };
  }
  const size = (n: string) => recipeParameters(recipes.find((r) => r.name === n) as Recipe);
  // Equal sizes keep the list order (the configured network is listed first).
  const order = [...qualified].sort((a, b) => size(a) - size(b) || names.indexOf(a) - names.indexOf(b));
  let kept = order[0] as string;
  const steps: SelectionStep[] = [];
  for (const n of order.slice(1)) {
    const c = challenge(n, kept, pairedDifference(folds, n, kept), size(n) < size(kept));
    steps.push({ challenger: n, kept, replaces: c.replaces, reason: c.reason });
    if (c.replaces) kept = n;
  }
  const head = `${qualified.join(', ')} ${qualified.length > 1 ? 'beat' : 'beats'} ${reference} beyond noise on both metrics`;
  const tail =
    steps.length === 0
      ? `${kept} is kept`
      : `from the simplest, ${order[0]}, a more complex one replaces the kept one only when ahead beyond noise on both metrics: ${steps.map((s) => s.reason).join('; ')}; so ${kept} is kept`;
  return { chosen: kept, qualified, steps, reason: `${head}; ${tail}` };
}
