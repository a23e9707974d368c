/**
 * The sync engine's outboxes backed by the device store: prediction logs
 * and recorded outcomes. A storage failure is thrown (with its code as the
 * cause) so the engine stops the pass and retries later; nothing is marked.
 */
import { ENDPOINTS } from '../../../../model/contract/endpoints.ts';
import type { Outcome } from '../../../../model/contract/outcome.ts';
import type { PredictionLog } from '../../../../model/contract/prediction-log.ts';
import type { DeviceStore, StorageResult } from '../storage/device-store.ts';
import type { Outbox, Rejection } from './sync-engine.ts';

export const LOGS_PATH = ENDPOINTS.uploadLogs.path;
export const OUTCOMES_PATH = ENDPOINTS.uploadOutcomes.path;

function must<T>(r: StorageResult<T>): T {
  if (r.ok) return r.value;
  throw new Error(r.message, { cause: r });
}

export function logOutbox(store: DeviceStore): Outbox<PredictionLog> {
  return {
    path: LOGS_PATH,
    field: 'logs',
    unsynced: async (limit) => must(await store.unsyncedLogs(limit)),
    // Takes the ids out of the outbox: the logs themselves are not rewritten.
    markSynced: async (ids) => void must(await store.markSynced(ids)),
    markRejected: async (rs: readonly Rejection[]) => void must(await store.markRejected(rs)),
  };
}

export function outcomeOutbox(store: DeviceStore): Outbox<Outcome> {
  return {
    path: OUTCOMES_PATH,
    field: 'outcomes',
    unsynced: async (limit) => must(await store.unsyncedOutcomes(limit)),
    markSynced: async (ids) => void must(await store.markOutcomesSynced(ids)),
    markRejected: async (rs: readonly Rejection[]) => void must(await store.markOutcomesRejected(rs)),
  };
}
