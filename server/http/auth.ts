/**
 * Bearer-token authentication, role check and per-token rate limit, as one
 * middleware per route group: `requireRole(deps, 'admin')`.
 */
import type { MiddlewareHandler } from 'hono';
import type { RateLimiter } from '../auth/rate-limit.ts';
import type { Principal, Role, TokenService } from '../auth/tokens.ts';
import { ApiError } from './errors.ts';

export interface AuthEnv {
  Variables: { principal: Principal };
}

export function requireRole(
  deps: { tokens: TokenService; limiter: RateLimiter },
  ...roles: Role[]
): MiddlewareHandler<AuthEnv> {
  return async function authorise(c, next) {
    const header = c.req.header('authorization') ?? '';
    const m = /^Bearer\s+([A-Za-z0-9_-]{20,200})\s*$/.exec(header);
    if (!m)
      throw new ApiError('unauthorized', {
        problem: header ? 'malformed Authorization header' : 'missing bearer token',
      });
    const p = await deps.tokens.lookup(m[1] as string);
    if (!p) throw new ApiError('unauthorized', { problem: 'unknown or revoked token' });
    const wait = deps.limiter.hit(p.tokenHash);
    if (wait > 0) {
      c.header('Retry-After', String(wait));
      throw new ApiError('rate-limited', { retryAfterSeconds: wait });
    }
    if (!roles.includes(p.role)) throw new ApiError('forbidden', { required: roles, role: p.role });
    c.set('principal', p);
    await next();
  };
}
