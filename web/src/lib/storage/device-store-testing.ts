/**
 * For the DeviceStore tests only (never imported by the app): a fresh store by name, logs built as the recorder
 * builds them, and the two ways tests read and write logs through the store.
 */
import { fromVector } from '../../../../model/contract/features.ts';
import type { PredictionLog, PredictionSource } from '../../../../model/contract/prediction-log.ts';
import { MEANS } from '../../../../model/testing/tiny-model.ts';
import { DeviceStore } from './device-store.ts';
import { buildLog } from './prediction-recorder.ts';

/** Valid inputs near the training means. */
export const TEST_INPUTS = fromVector(MEANS.map((v, i) => (i === 0 || i === 6 ? 1 : i === 4 ? 5 : v)));
export const TEST_LOG_CONTEXT = {
  deviceId: 'dev_test',
  modelVersion: 'v123',
  backend: 'wasm' as const,
  latencyMs: 0.4,
};

/** A log of TEST_INPUTS with flat outputs. */
export const testLog = (source: PredictionSource, songId?: string, createdAt?: Date) =>
  buildLog(
    TEST_LOG_CONTEXT,
    { inputs: TEST_INPUTS, outputs: new Float32Array(72).fill(0.25), source, songId },
    createdAt,
  );

/** Opens (creating or upgrading) the store of that name; throws with the code if it cannot. */
export async function openTestStore(name: string): Promise<DeviceStore> {
  const r = await DeviceStore.open({ name });
  if (!r.ok) throw new Error(r.code);
  return r.value;
}

/** Saves logs as the recorder does (with labels when given). */
export const addLogs = (store: DeviceStore, logs: readonly PredictionLog[], labels?: readonly (string | undefined)[]) =>
  store.logs.add(logs.map((log, i) => (labels?.[i] ? { log, label: labels[i] } : { log })));

/** Pending logs, oldest first, as the sync engine reads them. */
export const unsyncedLogs = async (store: DeviceStore, limit?: number) => {
  const r = await store.logs.unsynced(limit);
  return r.ok ? { ok: true as const, value: r.value.map((row) => row.log) } : r;
};
