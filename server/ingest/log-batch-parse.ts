/**
 * A log batch body, from bytes to what the ingest stores: UTF-8 text, JSON, the contract's shape (the fast check,
 * else zod's per-item errors), event times within the window, and each log's feature fingerprint. Plain data in and
 * out, no HTTP and no store, so it runs on the parse thread (`log-parse-pool.ts`) as well as in process.
 */
import {
  type ErrorCode,
  type EventWindow,
  featureFingerprint,
  type LogBatchRequest,
  LogBatchRequestSchema,
} from '../../model/contract/index.ts';
import { DomainError } from '../domain-error.ts';
import { batchIssues } from '../http/batch-issues.ts';
import { parseJsonText } from '../http/json-text.ts';
import { logsOutsideWindow } from './event-window.ts';
import { isValidLogBatch } from './fast-log-check.ts';

/** A parsed batch, or the contract error to answer with (a DomainError's code and details, as plain data). */
export type LogBatchParse =
  | { ok: true; logs: LogBatchRequest['logs']; fingerprints: string[] }
  | { ok: false; code: ErrorCode; details: unknown };

export function parseLogBatch(bytes: Uint8Array, receivedAtMs: number, window: EventWindow): LogBatchParse {
  try {
    // A log batch's shape is fixed by its schema, so the depth scan is skipped (json-text.ts).
    const raw = parseJsonText(new TextDecoder().decode(bytes), { checkDepth: false });
    let body: LogBatchRequest;
    if (isValidLogBatch(raw)) body = raw;
    else {
      const parsed = LogBatchRequestSchema.safeParse(raw);
      if (!parsed.success) throw new DomainError('validation-failed', batchIssues(parsed.error.issues, 'logs', raw));
      body = parsed.data;
    }
    const late = logsOutsideWindow(body.logs, receivedAtMs, window);
    if (late.length > 0) throw new DomainError('validation-failed', { items: late.slice(0, 200), body: [] });
    return { ok: true, logs: body.logs, fingerprints: body.logs.map((l) => featureFingerprint(l.inputs)) };
  } catch (e) {
    if (e instanceof DomainError) return { ok: false, code: e.code, details: e.details };
    throw e;
  }
}
