/**
 * Request body limits (hono/body-limit: the declared length is checked first, a chunked body is counted while it
 * is read and cut off at the limit), answered 413 in the contract's error shape. Every route has one: the few
 * large uploads their own, after authentication; every other route the small JSON limit, before anything else.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { describeError, ENDPOINT_LIST } from '../../model/contract/index.ts';
import { errorBody } from './errors.ts';

/** The limit in force for each request: a compressed body is held to it once inflated too (`json-body.ts`). */
const limits = new WeakMap<Context, number>();

/** The body limit set for this request, if any. */
export function bodyLimitOf(c: Context): number | undefined {
  return limits.get(c);
}

export function limitBody(maxSize: number): MiddlewareHandler {
  const limit = bodyLimit({
    maxSize,
    onError: (c) => c.json(errorBody('body-too-large', describeError('body-too-large'), { maxBytes: maxSize }), 413),
  });
  return async function limitedBody(c, next) {
    limits.set(c, maxSize);
    return limit(c, next);
  };
}

/**
 * Routes that set a larger limit themselves, after authentication (so no one without a token can make the server
 * read a large body). Method and exact path: anything else falls under the default.
 */
const OWN_LIMIT = new Set(ENDPOINT_LIST.filter((e) => e.largeBody).map((e) => `${e.method.toUpperCase()} ${e.path}`));

/** The default limit for every request, app-wide, except the routes above. */
export function defaultBodyLimit(maxSize: number): MiddlewareHandler {
  const limit = limitBody(maxSize);
  return async function defaultLimit(c, next) {
    if (OWN_LIMIT.has(`${c.req.method} ${c.req.path}`)) return next();
    return limit(c, next);
  };
}
