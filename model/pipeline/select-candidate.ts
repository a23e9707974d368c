/**
 * Model selection on cross-validation: a candidate qualifies when it beats
 * logistic regression beyond noise on both macro AUC and top-5 hit; of those,
 * one that another qualifier beats beyond noise on a metric (without losing
 * on the other) drops out; of the rest, the simplest (fewest real
 * parameters) wins, because what noise cannot separate should not cost
 * weights on the device.
 */
import { type Recipe, recipeParameters } from './candidates.ts';
import { type FoldRecord, pairedDifference, verdictOf } from './cross-validate.ts';

export interface Selection {
  /** The chosen recipe's name; `fallback` when nothing beats logistic regression beyond noise. */
  readonly chosen: string;
  readonly qualified: readonly string[];
  readonly reason: string;
}

export function selectCandidate(
  folds: readonly FoldRecord[],
  recipes: readonly Recipe[],
  fallback: string,
  reference = 'logistic',
): Selection {
  const names = recipes.map((r) => r.name).filter((n) => n !== reference && n !== 'production');
  const qualified = names.filter((n) => {
    const d = pairedDifference(folds, n, reference);
    return verdictOf(d.macroAuc) === 'better' && verdictOf(d.top5Hit) === 'better';
  });
  if (qualified.length === 0) {
    return {
      chosen: fallback,
      qualified,
      reason: `no candidate beats ${reference} beyond noise on both metrics; ${fallback} goes to the gate`,
    };
  }
  const undominated = qualified.filter((n) =>
    qualified.every((o) => {
      if (o === n) return true;
      const d = pairedDifference(folds, o, n);
      const a = verdictOf(d.macroAuc);
      const b = verdictOf(d.top5Hit);
      return !((a === 'better' && b !== 'worse') || (b === 'better' && a !== 'worse'));
    }),
  );
  const pool = undominated.length > 0 ? undominated : qualified;
  const size = (n: string) => recipeParameters(recipes.find((r) => r.name === n) as Recipe);
  const chosen = [...pool].sort((a, b) => size(a) - size(b) || (a < b ? -1 : 1))[0] as string;
  return {
    chosen,
    qualified,
    reason:
      pool.length > 1
        ? `${pool.join(', ')} beat ${reference} beyond noise on both metrics and none beats another beyond noise: the simplest, ${chosen}, is kept`
        : `${chosen} beats ${reference} beyond noise on both metrics and no other candidate beats it`,
  };
}
