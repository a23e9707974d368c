/**
 * Reads a JSON request body and validates it with a contract schema, once.
 * Each way a body can be wrong gets its own code: wrong media type (415),
 * a content coding other than gzip (415 `unsupported-content-encoding`), a
 * corrupt gzip stream (400 `invalid-body-encoding`), more than the route's
 * limit once inflated (413 `body-too-large`), not JSON (400 `invalid-json`),
 * NaN/Infinity literals (400 `invalid-value`), schema mismatch (422
 * `validation-failed` with per-item codes).
 */
import type { Context } from 'hono';
import type { z } from 'zod';
import { DomainError } from '../domain-error.ts';
import { batchIssues, issueCode } from './batch-issues.ts';
import { gunzipBounded } from './gunzip-bounded.ts';
import { parseJsonText } from './json-text.ts';
import { bodyLimitOf } from './limits.ts';

export function requireJson(c: Context): void {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/(.+\+)?json\b/i.test(type)) {
    throw new DomainError('unsupported-media-type', { expected: 'application/json', got: type || null });
  }
}

/** Inflated size allowed where no route limit was set (every route has one: `limits.ts`). */
const FALLBACK_INFLATED_LIMIT = 1024 * 1024;

/**
 * The body as text, inflated when sent with `Content-Encoding: gzip` (a 1,000-log batch is ~2 MB of JSON, ~5×
 * less gzipped). The route's body limit bounds both the bytes on the wire and the inflated size.
 */
export async function bodyText(c: Context): Promise<string> {
  return new TextDecoder().decode(await bodyBytes(c));
}

/** The body's bytes, inflated when gzip (see `bodyText`); a fresh buffer the caller may transfer. */
export async function bodyBytes(c: Context): Promise<Uint8Array> {
  const encoding = (c.req.header('content-encoding') ?? '').trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return new Uint8Array(await c.req.arrayBuffer());
  if (encoding !== 'gzip' && encoding !== 'x-gzip') {
    throw new DomainError('unsupported-content-encoding', { got: encoding, accepted: ['gzip', 'identity'] });
  }
  const maxBytes = bodyLimitOf(c) ?? FALLBACK_INFLATED_LIMIT;
  const inflated = await gunzipBounded(new Uint8Array(await c.req.arrayBuffer()), maxBytes);
  if (inflated.ok) return inflated.bytes;
  if (inflated.reason === 'too-large') throw new DomainError('body-too-large', { maxBytes, inflated: true });
  throw new DomainError('invalid-body-encoding', { problem: inflated.message });
}

/** The body as JSON (see `parseJsonText` for `checkDepth` and the codes). */
export async function readJsonText(c: Context, opts: { checkDepth?: boolean } = {}): Promise<unknown> {
  requireJson(c);
  return parseJsonText(await bodyText(c), opts);
}

/** Parses a body with `schema`; a batch key makes the 422 carry per-item errors. */
export async function readBody<S extends z.ZodType>(c: Context, schema: S, batchKey?: string): Promise<z.infer<S>> {
  const raw = await readJsonText(c);
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  if (batchKey) throw new DomainError('validation-failed', batchIssues(r.error.issues, batchKey, raw));
  throw new DomainError(
    'validation-failed',
    r.error.issues.slice(0, 50).map((i) => ({ path: i.path.map(String), code: issueCode(i), message: i.message })),
  );
}
