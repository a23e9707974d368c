/**
 * Folds an ensemble of same-shaped Dense networks into ONE Dense stack, so
 * the app's loader runs it unchanged: hidden layers side by side (first layer
 * concatenated, deeper layers block-diagonal), output layer stacked and
 * divided by the member count. The result computes sigmoid(mean of the
 * members' logits) exactly.
 */
import type { DenseLayerWeights, DenseWeights } from '../runtime/dense-model.ts';

export function combineMembers(members: readonly DenseWeights[]): DenseWeights {
  const first = members[0];
  if (!first) throw new Error('an ensemble needs at least one member');
  if (members.length === 1) return first;
  const n = members.length;
  const depth = first.layers.length;
  for (const m of members) {
    if (m.layers.length !== depth || m.layers.some((l, i) => l.units !== first.layers[i]?.units)) {
      throw new Error('ensemble members must share one architecture');
    }
  }
  const layers: DenseLayerWeights[] = [];
  for (let li = 0; li < depth; li++) {
    const proto = first.layers[li] as DenseLayerWeights;
    const isFirst = li === 0;
    const isLast = li === depth - 1;
    const inputs = isFirst ? proto.inputs : proto.inputs * n;
    const units = isLast ? proto.units : proto.units * n;
    const kernel = new Float32Array(inputs * units);
    const bias = new Float32Array(units);
    members.forEach((m, k) => {
      const l = m.layers[li] as DenseLayerWeights;
      const rowOffset = isFirst ? 0 : k * l.inputs;
      const colOffset = isLast ? 0 : k * l.units;
      const scale = isLast ? 1 / n : 1;
      for (let i = 0; i < l.inputs; i++) {
        for (let j = 0; j < l.units; j++) {
          const dst = (rowOffset + i) * units + colOffset + j;
          // Output layer: members write the same cells, summed then scaled = the mean logit.
          kernel[dst] = (kernel[dst] as number) + (l.kernel[i * l.units + j] as number) * scale;
        }
      }
      for (let j = 0; j < l.units; j++)
        bias[colOffset + j] = (bias[colOffset + j] as number) + (l.bias[j] as number) * scale;
    });
    layers.push({ inputs, units, kernel, bias, activation: proto.activation });
  }
  return { layers, inputSize: first.inputSize, outputSize: first.outputSize };
}

/** Weights actually stored (block-diagonal zeros included; trees: leaf values plus a threshold per node). */
export function storedParameters(w: DenseWeights): number {
  const trees = w.trees ? w.trees.values.length + w.trees.threshold.length : 0;
  return w.layers.reduce((a, l) => a + l.kernel.length + l.bias.length, trees);
}
