/**
 * The client's address for per-address limits (failed logins, enrollment guesses). Behind a load balancer every
 * request comes from the balancer, so with TRUST_PROXY the address is the last hop the balancer appended to
 * X-Forwarded-For (the entries before it are whatever the client claimed).
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';

export function clientAddress(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const xff = c.req.header('x-forwarded-for');
    const last = xff?.split(',').pop()?.trim();
    if (last) return last;
  }
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown'; // no socket (app.request in tests)
  }
}
