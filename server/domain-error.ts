/**
 * The one error the server's services and routes throw for an expected failure: a contract code with details,
 * and no HTTP in it. `http/errors.ts` (the app's one error handler) decides the status from the code, and from
 * `missing` — the thing asked for does not exist (an unknown version in a path is 404; in a body it is 422).
 */
import { describeError, type ErrorCode } from '../model/contract/index.ts';

export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;
  /** The request named something that does not exist (answered 404 whatever the code). */
  readonly missing: boolean;
  constructor(code: ErrorCode, details?: unknown, opts: { missing?: boolean; message?: string } = {}) {
    super(opts.message ?? describeError(code));
    this.name = 'DomainError';
    this.code = code;
    this.details = details;
    this.missing = opts.missing ?? false;
  }
}
