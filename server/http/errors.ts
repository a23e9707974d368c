/**
 * The one place (`errorHandler`, used by `app.onError`) that maps what was thrown to HTTP: a `DomainError`'s
 * contract code picks the status (404 when it says the thing asked for is missing), and every error answer is
 * shaped as `{ error: { code, message, details } }`.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { describeError, type ErrorCode } from '../../model/contract/index.ts';
import { DomainError } from '../domain-error.ts';

/** Default HTTP status for each code the server answers with. */
const STATUS: Partial<Record<ErrorCode, ContentfulStatusCode>> = {
  'invalid-json': 400,
  'invalid-value': 400,
  'csv-malformed': 400,
  'csv-missing-column': 400,
  'file-empty': 400,
  'validation-failed': 422,
  'json-too-deep': 400,
  'invalid-date': 400,
  'reserved-id': 422,
  'device-exists': 409,
  'device-revoked': 403,
  'id-reused': 409,
  'manifest-invalid': 422,
  'hash-mismatch': 422,
  'signature-missing': 422,
  'signature-mismatch': 422,
  'unknown-model-version': 422,
  'body-too-large': 413,
  'unsupported-media-type': 415,
  'unsupported-content-encoding': 415,
  'invalid-body-encoding': 400,
  unauthorized: 401,
  forbidden: 403,
  'enrollment-code-invalid': 403,
  'not-found': 404,
  conflict: 409,
  'rate-limited': 429,
  internal: 500,
};

export function errorBody(code: ErrorCode, message: string, details?: unknown) {
  return details === undefined ? { error: { code, message } } : { error: { code, message, details } };
}

/** `app.onError`: turns anything thrown into the contract's error shape. Unexpected errors are logged, not leaked. */
export function errorHandler(onUnexpected: (err: unknown, c: Context) => void) {
  return function handleError(err: Error, c: Context): Response {
    if (err instanceof DomainError) {
      const status = err.missing ? 404 : (STATUS[err.code] ?? 400);
      return c.json(errorBody(err.code, err.message, err.details), status);
    }
    if (err instanceof HTTPException) {
      const status = err.status as ContentfulStatusCode;
      const code: ErrorCode =
        status === 413
          ? 'body-too-large'
          : status === 401
            ? 'unauthorized'
            : status === 403
              ? 'forbidden'
              : status === 404
                ? 'not-found'
                : 'invalid-value';
      return c.json(errorBody(code, describeError(code)), status);
    }
    onUnexpected(err, c);
    return c.json(errorBody('internal', describeError('internal')), 500);
  };
}
