/**
 * Identity routes: enrollment codes, enrollment (the one write without a token, limited per client address),
 * the device list, revocation and restore, a device's own record (`devices/enrollment.ts` does the work).
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { ENDPOINTS } from '../../model/contract/index.ts';
import { RateLimiter } from '../auth/rate-limit.ts';
import type { Deps } from '../deps.ts';
import { Enrollment } from '../devices/enrollment.ts';
import { DomainError } from '../domain-error.ts';
import type { AuthEnv } from '../http/auth.ts';
import { clientAddress } from '../http/client-address.ts';
import { endpointMounter } from '../http/endpoint-routes.ts';

export function enrollmentRoutes(deps: Deps) {
  const app = new OpenAPIHono<AuthEnv>();
  const on = endpointMounter(app, deps);
  const enrollment = new Enrollment(deps.store.db, deps.tokens, deps.publicKey);
  const actor = (c: { get(key: 'principal'): { subject: string } }) => c.get('principal').subject;

  on(ENDPOINTS.createEnrollmentCode, {}, async (c, { body }) => ({
    json: await enrollment.createCode(actor(c), body),
  }));

  const guesses = new RateLimiter(30);
  const limitGuesses: MiddlewareHandler<AuthEnv> = async (c, next) => {
    const wait = guesses.hit(clientAddress(c, deps.config.trustProxy));
    if (wait > 0) {
      c.header('Retry-After', String(wait));
      throw new DomainError('rate-limited', { retryAfterSeconds: wait });
    }
    await next();
  };
  on(ENDPOINTS.enroll, { middleware: [limitGuesses] }, async (_c, { body }) => ({
    json: await enrollment.enroll(body),
  }));

  on(ENDPOINTS.ownDevice, {}, async (c) => ({ json: await enrollment.device(actor(c)) }));
  on(ENDPOINTS.listDevices, {}, async () => ({ json: { devices: await enrollment.devices() } }));
  on(ENDPOINTS.revokeDevice, {}, async (c, { params }) => ({ json: await enrollment.revoke(actor(c), params.id) }));
  on(ENDPOINTS.restoreDevice, {}, async (c, { params }) => ({ json: await enrollment.restore(actor(c), params.id) }));

  return app;
}
