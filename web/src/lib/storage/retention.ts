/**
 * What the device may forget, and when. Synced logs (the server has them)
 * are deleted after a configurable age, and earlier — oldest first — when
 * the app's storage use nears its quota. Unsynced and rejected logs are
 * never deleted: the device is their only copy. When space runs low and
 * nothing more may be deleted, the report says so, for the user to be told.
 */
import type { DeviceStore, StorageResult } from './device-store.ts';

export interface RetentionPolicy {
  /** Synced logs older than this many days are deleted. */
  readonly maxAgeDays: number;
  /** Share of the quota above which synced logs are deleted to make room (0–1). */
  readonly pressureRatio: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = { maxAgeDays: 30, pressureRatio: 0.8 };
export const RETENTION_DAY_CHOICES = [7, 30, 90, 365] as const;

export interface StorageEstimate {
  readonly usage: number;
  readonly quota: number;
}

export interface RetentionReport {
  readonly prunedByAge: number;
  readonly prunedForSpace: number;
  readonly estimate: StorageEstimate | null;
  /** Over the pressure ratio with no synced log left to delete: the user must be told. */
  readonly low: boolean;
}

/** `navigator.storage.estimate()`, or null where the browser has none. */
export async function browserEstimate(): Promise<StorageEstimate | null> {
  const s = typeof navigator === 'undefined' ? undefined : navigator.storage;
  if (!s?.estimate) return null;
  const e = await s.estimate();
  return e.quota ? { usage: e.usage ?? 0, quota: e.quota } : null;
}

function must<T>(r: StorageResult<T>): T {
  if (r.ok) return r.value;
  throw new Error(r.message, { cause: r });
}

export async function applyRetention(
  store: DeviceStore,
  policy: RetentionPolicy = DEFAULT_RETENTION,
  estimate: () => Promise<StorageEstimate | null> = browserEstimate,
  now = new Date(),
): Promise<RetentionReport> {
  const olderThan = new Date(now.getTime() - policy.maxAgeDays * 86_400_000);
  const prunedByAge = must(await store.logs.prune({ olderThan }));
  const before = await estimate();
  if (!before || before.usage <= policy.pressureRatio * before.quota) {
    return { prunedByAge, prunedForSpace: 0, estimate: before, low: false };
  }
  // Browsers report usage per origin (app cache, catalogue and logs together), not per record: size a log by its
  // serialised form and free enough to land a little under the threshold (so the next prediction does not start
  // this again). If more must go than there are synced logs, storage is low.
  const sample = must(await store.logs.list({ limit: 1 }))[0];
  const perLog = Math.max(1, sample ? JSON.stringify(sample).length : 1_000);
  const target = policy.pressureRatio * 0.9 * before.quota;
  const wanted = Math.ceil((before.usage - target) / perLog);
  const prunedForSpace = must(await store.logs.prune({ extra: wanted }));
  const after = (await estimate()) ?? before;
  // Usage estimates lag deletions (the database compacts later), so "low" is judged by what could be deleted.
  return { prunedByAge, prunedForSpace, estimate: after, low: prunedForSpace < wanted };
}
