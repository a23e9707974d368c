/**
 * The warm-up check a device runs before it trusts a model version: the
 * loaded model must reproduce the reference outputs shipped in its manifest
 * (within the manifest's tolerance, never tighter than DEVICE_PARITY_TOLERANCE)
 * and give only probabilities (no NaN). The one parity check on a device: the
 * inference engine runs it on every backend it brings up and on a shadow
 * candidate.
 */
import { fail, ok, type Result } from '../contract/errors.ts';
import { DEVICE_PARITY_TOLERANCE, type Manifest } from '../contract/manifest.ts';
import type { DenseModel } from './dense-model.ts';

export interface WarmUpReport {
  readonly maxAbsDiff: number;
  readonly rows: number;
}

export async function warmUpCheck(model: DenseModel, parity: Manifest['parity']): Promise<Result<WarmUpReport>> {
  const rows = parity.inputs.length;
  if (model.inputSize !== parity.inputs[0]?.length || model.outputSize !== parity.outputs[0]?.length) {
    return fail('model-load-failed', { reason: 'model shape does not match its manifest' });
  }
  const x = Float32Array.from(parity.inputs.flat());
  const y = await model.predict(x, rows);
  let maxAbsDiff = 0;
  for (let r = 0; r < rows; r++) {
    const expected = parity.outputs[r] ?? [];
    for (let j = 0; j < model.outputSize; j++) {
      const v = y[r * model.outputSize + j] as number;
      if (!Number.isFinite(v) || v < 0 || v > 1) return fail('model-output-invalid', { row: r, output: j, value: v });
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(v - (expected[j] ?? Number.NaN)));
    }
  }
  const tolerance = Math.max(parity.tolerance, DEVICE_PARITY_TOLERANCE);
  if (!(maxAbsDiff <= tolerance)) return fail('parity-failed', { maxAbsDiff, tolerance });
  return ok({ maxAbsDiff, rows });
}
