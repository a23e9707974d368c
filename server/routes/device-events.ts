/**
 * Device events routes: a device reports what happened to model updates on it; admins list them
 * (`devices/device-event-log.ts` keeps them).
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { ENDPOINTS } from '../../model/contract/index.ts';
import type { Deps } from '../deps.ts';
import { DeviceEventLog } from '../devices/device-event-log.ts';
import type { AuthEnv } from '../http/auth.ts';
import { endpointMounter } from '../http/endpoint-routes.ts';
import { limitBody } from '../http/limits.ts';

export function deviceEventRoutes(deps: Deps) {
  const app = new OpenAPIHono<AuthEnv>();
  const on = endpointMounter(app, deps);
  const log = new DeviceEventLog(deps.store.db);

  on(ENDPOINTS.reportDeviceEvents, { middleware: [limitBody(64 * 1024)] }, async (c, { body }) => {
    await log.record(c.get('principal').subject, body.events);
    return { json: { stored: body.events.map((e) => e.id) } };
  });

  on(ENDPOINTS.listDeviceEvents, {}, async (_c, { query }) => ({ json: { events: await log.list(query.deviceId) } }));

  return app;
}
