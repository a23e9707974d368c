/**
 * Every expected failure in Jukebox Edge is one of these codes, carried as a
 * value. `describeError` is the one place that turns a code into words.
 */
import { z } from 'zod';

export const FIELD_ERROR_MESSAGES = {
  'feature-missing': 'A value is required.',
  'feature-not-a-number': 'Must be a number.',
  'feature-not-an-integer': 'Must be a whole number.',
  'feature-not-boolean': 'Must be yes or no (true/false).',
  'feature-out-of-range': 'Is outside the valid range.',
  'feature-duration-unclear':
    'Write the duration as m:ss (3:30), minutes (3.5), seconds (210) or milliseconds (210000).',
} as const;

export type FieldErrorCode = keyof typeof FIELD_ERROR_MESSAGES;

export const ERROR_MESSAGES = {
  ...FIELD_ERROR_MESSAGES,
  // Input files (pipeline, batch upload, chart upload)
  'file-not-found': 'The file does not exist or cannot be read.',
  'file-empty': 'The file is empty.',
  'file-binary': 'The file is not text: it looks like a binary file.',
  'file-unsupported-format': 'The file format is not supported (use CSV or Parquet).',
  'csv-missing-column': 'A required column is missing from the header.',
  'csv-malformed': 'The CSV could not be parsed.',
  'invalid-feature-range': 'A feature value is outside its valid range.',
  'invalid-value': 'A value has the wrong type or format.',
  'unknown-country': 'The country is not one of the 72 the model covers.',
  'no-usable-rows': 'No usable rows remain after validation.',
  'invalid-text': 'The text contains control characters or invalid Unicode.',
  'invalid-date': 'The date is not a calendar date (YYYY-MM-DD).',
  'number-out-of-range': 'A number is outside its allowed range.',
  'event-time-out-of-window': 'The event time is too far before or after the moment the server received it.',
  'id-reused': 'This id was already stored with different content.',
  'reserved-id': 'This id is reserved and cannot be used by a device.',
  // Model and pipeline
  'gate-failed': 'The candidate did not pass the quality gate.',
  'parity-failed': 'The exported model does not reproduce the trained model.',
  'model-load-failed': 'The model could not be loaded.',
  'model-output-invalid': 'The model produced invalid outputs (NaN or out of range).',
  'backend-unavailable': 'No compute backend could be initialised on this device.',
  'hash-mismatch': 'A model file does not match the hash in its manifest.',
  'signature-mismatch': 'The model manifest is not signed by the label’s key.',
  'signature-missing': 'The model manifest is not signed.',
  'manifest-invalid': 'The model manifest is malformed.',
  'download-incomplete': 'The model download was incomplete.',
  // Storage on the device
  'quota-exceeded': 'The device is out of storage space for this app.',
  'storage-blocked': 'Storage is blocked by another open tab of this app; close it and retry.',
  'storage-unavailable': 'Storage is unavailable (private browsing mode or disabled by the browser).',
  'storage-failed': 'Writing to storage on this device failed.',
  'storage-low':
    'Storage for this app is almost full. Predictions not yet synced are kept; go online and sync so synced ones can be cleared.',
  // HTTP API
  'invalid-json': 'The request body is not valid JSON.',
  'validation-failed': 'The request did not match the expected schema.',
  'body-too-large': 'The request body is too large.',
  'unsupported-media-type': 'The request must be sent as JSON.',
  'unsupported-content-encoding': 'The request body is compressed in a way the server does not read (gzip or none).',
  'invalid-body-encoding': 'The request body says it is gzip-compressed but is not a valid gzip stream.',
  unauthorized: 'A valid token is required.',
  forbidden: 'This token is not allowed to do that.',
  'not-found': 'Nothing exists at this address.',
  conflict: 'That conflicts with the current state.',
  'rate-limited': 'Too many requests: slow down and retry later.',
  'unknown-model-version': 'The model version is not in the registry.',
  'enrollment-code-invalid': 'The enrollment code is unknown, used or expired.',
  'device-exists': 'A device with this id is already enrolled: ask the admin for a re-enrollment code for it.',
  'device-revoked': 'This device was revoked: the admin must restore it before it can enroll again.',
  'json-too-deep': 'The JSON body is nested too deeply.',
  'label-key-changed':
    'The server offered a different label signing key than the one this device trusts; the device keeps its key. Ask the admin for a re-enrollment code with a key reset.',
  'network-error': 'The server could not be reached.',
  internal: 'Something went wrong on the server.',
} as const;

export type ErrorCode = keyof typeof ERROR_MESSAGES;

export const ERROR_CODES = Object.keys(ERROR_MESSAGES) as ErrorCode[];

export const ErrorCodeSchema = z.enum(ERROR_CODES as [ErrorCode, ...ErrorCode[]]);

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_MESSAGES, code);
}

/** The sentence a person sees for a code. Unknown codes get a generic one. */
export function describeError(code: string): string {
  return isErrorCode(code) ? ERROR_MESSAGES[code] : `Unexpected error (${code}).`;
}

/** The body of every error the server answers with. */
export const ApiErrorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});
export type ApiError = z.infer<typeof ApiErrorSchema>;

/** An expected failure as a value, for boundaries that return instead of throw. */
export interface Failure<C extends string = ErrorCode> {
  readonly ok: false;
  readonly code: C;
  readonly message: string;
  readonly details?: unknown;
}
export type Result<T, C extends string = ErrorCode> = { readonly ok: true; readonly value: T } | Failure<C>;

export function fail<C extends ErrorCode>(code: C, details?: unknown, message?: string): Failure<C> {
  return { ok: false, code, message: message ?? describeError(code), details };
}
export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}
