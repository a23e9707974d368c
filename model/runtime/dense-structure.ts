/**
 * Where a Dense stack's weights really are. An ensemble folded into one stack
 * (model/pipeline/ensemble.ts) has block-diagonal hidden layers: with three
 * members, two thirds of the second layer's kernel are zeros. The kernels run
 * each output unit (or 8-unit panel) over only the input rows from its first
 * to its last weight, so they do the real multiply-adds and nothing else;
 * skipping exact zeros leaves every sum bit-identical.
 */
import type { DenseLayerWeights, DenseWeights } from './dense-model.ts';

/**
 * Per panel of 8 units (the SIMD kernel's unit of work), the input rows [from, to) from the first row with a
 * non-zero weight in the panel to the last. A panel without any weight gets [0, 0).
 */
export function panelSpans(l: DenseLayerWeights, width = 8): [number, number][] {
  const out: [number, number][] = [];
  for (let p = 0; p < l.units; p += width) {
    let from = -1;
    let to = 0;
    for (let r = 0; r < l.inputs; r++) {
      const row = r * l.units;
      for (let j = p; j < Math.min(l.units, p + width); j++) {
        if (l.kernel[row + j] !== 0) {
          if (from < 0) from = r;
          to = r + 1;
          break;
        }
      }
    }
    out.push(from < 0 ? [0, 0] : [from, to]);
  }
  return out;
}

/** Per input row, the output columns [from, to) from its first non-zero weight to its last (the JS kernel). */
export function rowSpans(l: DenseLayerWeights): Int32Array {
  const out = new Int32Array(l.inputs * 2);
  for (let r = 0; r < l.inputs; r++) {
    const row = r * l.units;
    let from = 0;
    while (from < l.units && l.kernel[row + from] === 0) from++;
    let to = l.units;
    while (to > from && l.kernel[row + to - 1] === 0) to--;
    out[2 * r] = from;
    out[2 * r + 1] = to;
  }
  return out;
}

/** Multiply-adds per song: every stored weight (dense), and those the span-skipping kernels run (structured). */
export function macsPerSong(w: DenseWeights): { dense: number; structured: number } {
  let dense = 0;
  let structured = 0;
  for (const l of w.layers) {
    dense += l.inputs * l.units;
    const spans = panelSpans(l);
    spans.forEach(([from, to], p) => {
      structured += (to - from) * (Math.min(l.units, (p + 1) * 8) - p * 8);
    });
  }
  return { dense, structured };
}
