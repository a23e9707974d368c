/**
 * Feature attributions for one country by a sampling Shapley estimate
 * (permutation sampling with antithetic pairs) against a baseline input —
 * the training reference means. Chosen over integrated gradients because
 * each sampled permutation telescopes from f(baseline) to f(x), so the
 * attributions sum to f(x) − f(baseline) exactly (up to float rounding), not
 * only in the limit; and it needs forward passes only (no gradients), batched
 * into one call.
 */
import { mulberry32 } from '../../../../model/runtime/prng.ts';

/** Rows of inputs (row-major, rows × width) → one value per row for the chosen output. */
export type BatchPredict = (x: Float32Array, rows: number) => Promise<ArrayLike<number>> | ArrayLike<number>;

export interface Attributions {
  /** One value per feature, in input order: how much it moved the output from the baseline. */
  readonly values: number[];
  readonly prediction: number;
  readonly baselinePrediction: number;
  /** Number of permutations evaluated. */
  readonly permutations: number;
}

function shuffled(n: number, rand: () => number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

/**
 * Estimates Shapley values of `predict` at `x` against `baseline`.
 * `permutations` is rounded up to an even number (each permutation is paired with its reverse).
 *
 * @example
 * const a = await shapleyAttributions((x, rows) => model.predictOne(x, rows, country), x, means, { permutations: 64 });
 * // a.values.reduce((s, v) => s + v, 0) ≈ a.prediction − a.baselinePrediction
 */
export async function shapleyAttributions(
  predict: BatchPredict,
  x: readonly number[],
  baseline: readonly number[],
  options: { permutations?: number; seed?: number } = {},
): Promise<Attributions> {
  const n = x.length;
  if (baseline.length !== n) throw new Error(`baseline has ${baseline.length} values, input has ${n}`);
  const pairs = Math.max(1, Math.ceil((options.permutations ?? 64) / 2));
  const rand = mulberry32(options.seed ?? 1);
  const perms: number[][] = [];
  for (let k = 0; k < pairs; k++) {
    const p = shuffled(n, rand);
    perms.push(p, [...p].reverse());
  }
  // Each permutation walks from the baseline to x one feature at a time: n + 1 rows.
  const rowsPer = n + 1;
  const rows = perms.length * rowsPer;
  const buf = new Float32Array(rows * n);
  perms.forEach((perm, k) => {
    const cur = [...baseline];
    for (let step = 0; step <= n; step++) {
      if (step > 0) {
        const f = perm[step - 1]!;
        cur[f] = x[f]!;
      }
      buf.set(cur, (k * rowsPer + step) * n);
    }
  });
  const y = await predict(buf, rows);
  const values = new Array<number>(n).fill(0);
  perms.forEach((perm, k) => {
    for (let step = 1; step <= n; step++) {
      const f = perm[step - 1]!;
      values[f]! += (y[k * rowsPer + step]! - y[k * rowsPer + step - 1]!) / perms.length;
    }
  });
  return { values, prediction: y[rowsPer - 1]!, baselinePrediction: y[0]!, permutations: perms.length };
}
