/**
 * Bearer-token authentication, role check and per-token rate limit, as one
 * middleware per route group: `requireRole(deps, 'admin')`. Failed
 * authentications are limited per client address (AUTH_FAILURES_PER_MINUTE).
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { RateLimiter } from '../auth/rate-limit.ts';
import type { Principal, Role, TokenService } from '../auth/tokens.ts';
import { DomainError } from '../domain-error.ts';
import { clientAddress } from './client-address.ts';

export interface AuthEnv {
  Variables: { principal: Principal };
}

export function requireRole(
  deps: {
    tokens: TokenService;
    limiter: RateLimiter;
    authFailures: RateLimiter;
    config: { trustProxy: boolean };
  },
  ...roles: Role[]
): MiddlewareHandler<AuthEnv> {
  /** A failed authentication counts against the client's address; past the limit it gets 429 until the minute ends. */
  function refuse(c: Context, address: string, problem: string): never {
    const wait = deps.authFailures.hit(address);
    if (wait > 0) {
      c.header('Retry-After', String(wait));
      throw new DomainError('rate-limited', { retryAfterSeconds: wait, problem: 'too many failed authentications' });
    }
    throw new DomainError('unauthorized', { problem });
  }
  return async function authorise(c, next) {
    const address = clientAddress(c, deps.config.trustProxy);
    // An address that keeps failing is answered before any token lookup reaches the store.
    const blocked = deps.authFailures.waitFor(address);
    if (blocked > 0) {
      c.header('Retry-After', String(blocked));
      throw new DomainError('rate-limited', { retryAfterSeconds: blocked, problem: 'too many failed authentications' });
    }
    const header = c.req.header('authorization') ?? '';
    const m = /^Bearer\s+([A-Za-z0-9_-]{20,200})\s*$/.exec(header);
    if (!m) {
      // No token at all is a page or client without credentials, not a guess: 401 without counting.
      if (!header) throw new DomainError('unauthorized', { problem: 'missing bearer token' });
      refuse(c, address, 'malformed Authorization header');
    }
    const p = await deps.tokens.lookup(m[1] as string);
    if (!p) refuse(c, address, 'unknown or revoked token');
    const wait = deps.limiter.hit(p.tokenHash);
    if (wait > 0) {
      c.header('Retry-After', String(wait));
      throw new DomainError('rate-limited', { retryAfterSeconds: wait });
    }
    if (!roles.includes(p.role)) throw new DomainError('forbidden', { required: roles, role: p.role });
    c.set('principal', p);
    await next();
  };
}
