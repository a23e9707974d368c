/**
 * ROC-AUC, the one implementation: the pipeline's metrics, the replay and the
 * server's field-performance bootstrap all call it. Ties between a positive
 * and a negative count half (average ranks, as scipy's Mann–Whitney U and
 * sklearn's `roc_auc_score` do); null without both classes.
 */

/**
 * ROC-AUC of items sorted by ascending score, each weighted by its unit's weight (a bootstrap resamples units,
 * e.g. songs, not items): the weight of (positive, negative) pairs ranked right, ties counting half, over the
 * weight of all such pairs. `labels` are 1 (positive) or 0.
 */
export function sortedRocAuc(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  units: ArrayLike<number>,
  unitWeights: ArrayLike<number>,
): number | null {
  let negBelow = 0;
  let sum = 0;
  let wPos = 0;
  let wNeg = 0;
  let i = 0;
  const n = scores.length;
  while (i < n) {
    let j = i;
    let gPos = 0;
    let gNeg = 0;
    while (j < n && scores[j] === scores[i]) {
      const w = unitWeights[units[j] as number] as number;
      if (labels[j]) gPos += w;
      else gNeg += w;
      j++;
    }
    sum += gPos * (negBelow + 0.5 * gNeg);
    negBelow += gNeg;
    wPos += gPos;
    wNeg += gNeg;
    i = j;
  }
  return wPos > 0 && wNeg > 0 ? sum / (wPos * wNeg) : null;
}

const ONE = [1];

/**
 * ROC-AUC of unsorted scores against labels: positive when `true` or a number above 0.5 (0/1 targets as floats).
 *
 * @example
 * rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]); // 0.75
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>): number | null {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (scores[a] as number) - (scores[b] as number));
  const sortedScores = new Float64Array(n);
  const sortedLabels = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    const i = order[k] as number;
    sortedScores[k] = scores[i] as number;
    sortedLabels[k] = +(labels[i] as number) > 0.5 ? 1 : 0;
  }
  // Every item is unit 0 with weight 1: the plain, unweighted AUC.
  return sortedRocAuc(sortedScores, sortedLabels, new Uint8Array(n), ONE);
}
