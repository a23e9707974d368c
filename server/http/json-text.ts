/**
 * JSON text to a value, with the contract's codes for each way it can be wrong: too deep (400 `json-too-deep`),
 * NaN/Infinity literals (400 `invalid-value`), not JSON (400 `invalid-json`). No HTTP here, so the log batch
 * parser can run it on its own thread (`ingest/log-parse-thread.ts`).
 */
import { DomainError } from '../domain-error.ts';

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
export function parseJsonText(text: string, opts: { checkDepth?: boolean } = {}): unknown {
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
