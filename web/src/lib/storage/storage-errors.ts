/**
 * IndexedDB failures as contract codes carried as values (quota, blocked upgrade, private mode, other): the one
 * place that knows DOMException names.
 */
import { type Failure, fail, ok, type Result } from '../../../../model/contract/errors.ts';

export type StorageErrorCode = 'quota-exceeded' | 'storage-blocked' | 'storage-unavailable' | 'storage-failed';
export type StorageResult<T> = Result<T, StorageErrorCode>;

/** Maps whatever IndexedDB threw to a contract code. */
export function storageErrorCode(err: unknown): StorageErrorCode {
  const name = (err as { name?: string } | null)?.name ?? '';
  const inner = (err as { inner?: { name?: string } } | null)?.inner?.name ?? '';
  if (name === 'QuotaExceededError' || inner === 'QuotaExceededError') return 'quota-exceeded';
  if (name === 'StorageBlockedError') return 'storage-blocked';
  // Firefox private mode and disabled storage throw these on open.
  if (name === 'SecurityError' || name === 'InvalidStateError' || name === 'NotSupportedError') {
    return 'storage-unavailable';
  }
  return 'storage-failed';
}

export function storageFailure(err: unknown): Failure<StorageErrorCode> {
  const code = storageErrorCode(err);
  return fail(code, { cause: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
}

/** Runs a storage operation, turning a throw into its code. */
export async function runStorage<T>(fn: () => Promise<T>): Promise<StorageResult<T>> {
  try {
    return ok(await fn());
  } catch (err) {
    return storageFailure(err);
  }
}
