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
import type { ItemError } from '../../model/contract/index.ts';
import { DomainError } from '../domain-error.ts';
import { gunzipBounded } from './gunzip-bounded.ts';
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
async function bodyText(c: Context): Promise<string> {
  const encoding = (c.req.header('content-encoding') ?? '').trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return c.req.text();
  if (encoding !== 'gzip' && encoding !== 'x-gzip') {
    throw new DomainError('unsupported-content-encoding', { got: encoding, accepted: ['gzip', 'identity'] });
  }
  const maxBytes = bodyLimitOf(c) ?? FALLBACK_INFLATED_LIMIT;
  const inflated = await gunzipBounded(new Uint8Array(await c.req.arrayBuffer()), maxBytes);
  if (inflated.ok) return new TextDecoder().decode(inflated.bytes);
  if (inflated.reason === 'too-large') throw new DomainError('body-too-large', { maxBytes, inflated: true });
  throw new DomainError('invalid-body-encoding', { problem: inflated.message });
}

/** Deeper than this is no body of ours (a manifest is ~6 levels): refused before JSON.parse builds it. */
export const MAX_JSON_DEPTH = 64;

/**
 * The deepest nesting of `[`/`{` in a JSON text, outside strings; stops counting once past `limit`. One pass over
 * char codes, so it costs far less than the parse it guards.
 */
export function jsonDepthExceeds(text: string, limit = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 92 /* \ */) i++;
      else if (ch === 34 /* " */) inString = false;
    } else if (ch === 34) inString = true;
    else if (ch === 123 /* { */ || ch === 91 /* [ */) {
      if (++depth > limit) return true;
    } else if (ch === 125 /* } */ || ch === 93 /* ] */) depth--;
  }
  return false;
}

/**
 * `checkDepth: false` only where the schema fixes the whole shape (a log batch): V8's JSON.parse is iterative, and
 * zod stops at the first level that does not match, so depth cannot hurt there and the scan would cost the hot
 * path (its cost per batch: `test/bench/README.md`).
 */
export async function readJsonText(c: Context, opts: { checkDepth?: boolean } = {}): Promise<unknown> {
  requireJson(c);
  const text = await bodyText(c);
  if (opts.checkDepth !== false && jsonDepthExceeds(text))
    throw new DomainError('json-too-deep', { maxDepth: MAX_JSON_DEPTH });
  try {
    return JSON.parse(text);
  } catch (cause) {
    if (/(^|[^\w"])(-?Infinity|NaN)([^\w"]|$)/.test(text)) {
      throw new DomainError('invalid-value', { problem: 'NaN and Infinity are not JSON numbers; send finite numbers' });
    }
    throw new DomainError('invalid-json', { problem: cause instanceof Error ? cause.message : String(cause) });
  }
}

type Issue = z.core.$ZodIssue;

/** The contract code for one zod issue on an item (features get the feature codes). */
export function issueCode(issue: Issue): string {
  const inInputs = issue.path.includes('inputs');
  if (inInputs) {
    if (issue.code === 'too_big' || issue.code === 'too_small') return 'feature-out-of-range';
    if (issue.code === 'invalid_type' && issue.path.length > 0) {
      return issue.input === undefined ? 'feature-missing' : 'feature-not-a-number';
    }
    if (issue.code === 'invalid_format' || issue.code === 'not_multiple_of') return 'feature-not-an-integer';
  }
  if (issue.path.includes('country') && issue.code === 'invalid_value') return 'unknown-country';
  if (issue.code === 'custom' && typeof issue.params?.code === 'string') return issue.params.code;
  if ((issue.code === 'too_big' || issue.code === 'too_small') && issue.origin === 'number')
    return 'number-out-of-range';
  return 'invalid-value';
}

/**
 * Per-item errors for a batch body `{ [listKey]: [...] }`: issues under
 * `listKey[i]` become `{ index, id, code, message, path }`; others are
 * returned as body-level issues.
 */
export function batchIssues(
  issues: readonly Issue[],
  listKey: string,
  body: unknown,
): { items: ItemError[]; body: { path: (string | number)[]; code: string; message: string }[] } {
  const items: ItemError[] = [];
  const top: { path: (string | number)[]; code: string; message: string }[] = [];
  const list = body && typeof body === 'object' ? (body as Record<string, unknown>)[listKey] : undefined;
  for (const i of issues) {
    const path = i.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
    if (path[0] === listKey && typeof path[1] === 'number') {
      const item = Array.isArray(list) ? (list[path[1]] as Record<string, unknown> | undefined) : undefined;
      const id = item && typeof item === 'object' && typeof item.id === 'string' ? item.id : undefined;
      items.push({
        index: path[1],
        ...(id ? { id } : {}),
        code: issueCode(i),
        message: i.message,
        path: path.slice(2),
      });
    } else {
      top.push({ path, code: 'invalid-value', message: i.message });
    }
  }
  return { items: items.slice(0, 200), body: top.slice(0, 50) };
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
