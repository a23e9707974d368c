/**
 * The inference engine's expected failures: thrown inside the engine as an
 * `EngineError` with a contract code, answered to the page as an `error`
 * message.
 */
import { type ErrorCode, fail } from '../../../../model/contract/errors.ts';
import type { WorkerResponse } from './protocol.ts';

export type Post = (msg: WorkerResponse, transfer?: Transferable[]) => void;

export class EngineError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly details?: unknown,
  ) {
    super(code);
  }
}

export function errorMessage(id: number, code: ErrorCode, details?: unknown, message?: string): WorkerResponse {
  const f = fail(code, details, message);
  return { type: 'error', id, code: f.code, message: f.message, details: f.details };
}
