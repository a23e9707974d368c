/**
 * The dense stack in plain JavaScript, as a backend of its own ('js').
 *
 * For one row (the form's warm prediction) a tfjs backend spends most of its
 * time around the arithmetic: creating and disposing tensors, dispatching
 * three fused matMuls, reading back. This model is ~93k multiply-adds, which
 * plain JS does in about a tenth of a millisecond, so on most devices this
 * wins single rows while WASM (or WebGPU) keeps big batches. The per-device
 * benchmark decides; the warm-up parity check guards it like any backend.
 */
import { type DenseModel, type DenseWeights, kernelDenseModel } from './dense-model.ts';
import { rowSpans } from './dense-structure.ts';

/**
 * Runs the weights on plain typed arrays: no tfjs, no tensors to leak.
 * Sums are kept in float64 and each layer's output is stored as float32,
 * as the tfjs backends do.
 *
 * @example
 * const m = createJsDenseModel(weights);
 * const probs = m.predictSync(Float32Array.from(features), 1); // 72 values
 */
export function createJsDenseModel(w: DenseWeights): DenseModel {
  const widest = Math.max(...w.layers.map((l) => l.units));
  // One row's sums and activations, reused so a single prediction allocates only its output.
  const sums = new Float64Array(widest);
  const acts = [new Float32Array(widest), new Float32Array(widest)] as const;
  // Each input row's first and last non-zero weight: a folded ensemble's block-diagonal zeros are skipped.
  const spans = w.layers.map(rowSpans);
  return kernelDenseModel(w, (x, rows) => {
    const out = new Float32Array(rows * w.outputSize);
    const last = w.layers.length - 1;
    for (let r = 0; r < rows; r++) {
      let h: Float32Array = x.subarray(r * w.inputSize, (r + 1) * w.inputSize);
      for (let li = 0; li <= last; li++) {
        const { kernel, bias, units, inputs, activation } = w.layers[li]!;
        sums.set(bias);
        // Row-major [inputs, units]: walking each input's row of the kernel reads memory in order.
        for (let i = 0; i < inputs; i++) {
          const a = h[i] as number;
          if (a === 0) continue; // ReLU zeros are common and add nothing
          const k0 = i * units;
          const span = spans[li] as Int32Array;
          const to = span[2 * i + 1] as number;
          for (let j = span[2 * i] as number; j < to; j++)
            sums[j] = (sums[j] as number) + a * (kernel[k0 + j] as number);
        }
        const dst = li === last ? out.subarray(r * units, (r + 1) * units) : (acts[li % 2] as Float32Array);
        if (activation === 'relu') for (let j = 0; j < units; j++) dst[j] = Math.max(0, sums[j] as number);
        else if (activation === 'sigmoid')
          for (let j = 0; j < units; j++) dst[j] = 1 / (1 + Math.exp(-(sums[j] as number)));
        else for (let j = 0; j < units; j++) dst[j] = sums[j] as number;
        h = dst;
      }
    }
    return out;
  });
}
