/**
 * Puts the shadow candidate's answer beside the active one in each log
 * record (the contract's optional `shadow` field), so the server can report
 * agreement. Waits for the shadow only up to a limit: a slow or failed
 * candidate must never hold a log back.
 */
import { probabilitiesForLog } from '../../../../model/contract/countries.ts';
import type { PredictionLog } from '../../../../model/contract/prediction-log.ts';
import type { ShadowOutputs } from './Inference.svelte.ts';

export async function attachShadow(
  logs: readonly PredictionLog[],
  shadow: Promise<ShadowOutputs | null> | undefined,
  timeoutMs = 30_000,
): Promise<PredictionLog[]> {
  if (!shadow) return [...logs];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const s = await Promise.race([
    shadow,
    new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (!s || logs.length === 0) return [...logs];
  const width = s.outputs.length / logs.length;
  if (!Number.isInteger(width) || width !== logs[0]?.outputs.length) return [...logs];
  return logs.map((log, i) => ({
    ...log,
    shadow: {
      modelVersion: s.modelVersion,
      outputs: probabilitiesForLog(s.outputs.subarray(i * width, (i + 1) * width)),
      latencyMs: Math.max(0, s.latencyMs),
    },
  }));
}
