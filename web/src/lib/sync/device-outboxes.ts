/**
 * The sync engine's outboxes backed by the device store: prediction logs
 * and recorded outcomes, both the store's one record family. A storage
 * failure is thrown (with its code as the cause) so the engine stops the
 * pass and retries later; nothing is marked.
 */
import { ENDPOINTS } from '../../../../model/contract/endpoints.ts';
import type { Outcome } from '../../../../model/contract/outcome.ts';
import type { PredictionLog } from '../../../../model/contract/prediction-log.ts';
import type { DeviceStore, RecordOutbox, StorageResult, SyncFlag } from '../storage/device-store.ts';
import type { Outbox, Rejection } from './sync-engine.ts';

export const LOGS_PATH = ENDPOINTS.uploadLogs.path;
export const OUTCOMES_PATH = ENDPOINTS.uploadOutcomes.path;

function must<T>(r: StorageResult<T>): T {
  if (r.ok) return r.value;
  throw new Error(r.message, { cause: r });
}

/** An outbox over one record family: `item` picks the contract record out of a stored row. */
export function familyOutbox<Row extends { synced: SyncFlag }, T extends { id: string }>(
  family: RecordOutbox<Row>,
  path: string,
  field: string,
  item: (row: Row) => T,
): Outbox<T> {
  return {
    path,
    field,
    unsynced: async (limit, skip) => must(await family.unsynced(limit, skip)).map(item),
    // Takes the ids out of the outbox: the records themselves are not rewritten.
    markSynced: async (ids) => void must(await family.markSynced(ids)),
    markRejected: async (rs: readonly Rejection[]) => void must(await family.markRejected(rs)),
  };
}

export function logOutbox(store: DeviceStore): Outbox<PredictionLog> {
  return familyOutbox(store.logs, LOGS_PATH, 'logs', (r) => r.log);
}

export function outcomeOutbox(store: DeviceStore): Outbox<Outcome> {
  return familyOutbox(store.outcomes, OUTCOMES_PATH, 'outcomes', (r) => r.outcome);
}
