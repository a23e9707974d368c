/**
 * Device events: a device reports what happened to model updates on it
 * (refused, rolled back, activated, shadow refused, drift warning). Stored in
 * the audit log (id = the device's event id, so a retried report is stored
 * once) where the dashboard already shows it; admins list them here.
 */
import { Hono } from 'hono';
import { DeviceEventBatchSchema } from '../../model/contract/index.ts';
import type { Deps } from '../deps.ts';
import { type AuthEnv, requireRole } from '../http/auth.ts';
import { readBody } from '../http/json-body.ts';
import { limitBody } from '../http/limits.ts';

const ACTION_PREFIX = 'device-';

export function deviceEventRoutes(deps: Deps) {
  const app = new Hono<AuthEnv>();
  const device = requireRole(deps, 'device');
  const admin = requireRole(deps, 'admin');
  const db = deps.store.db;

  app.post('/devices/me/events', device, limitBody(64 * 1024), async (c) => {
    const body = await readBody(c, DeviceEventBatchSchema, 'events');
    const deviceId = c.get('principal').subject;
    const receivedAt = new Date().toISOString();
    for (const e of body.events) {
      await db
        .insertInto('audit')
        .values({
          id: e.id,
          at: e.at,
          actor: deviceId,
          action: `${ACTION_PREFIX}${e.kind}`,
          details: JSON.stringify({
            deviceId,
            version: e.version,
            ...(e.code ? { code: e.code } : {}),
            ...(e.message ? { message: e.message } : {}),
            receivedAt,
          }),
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    }
    return c.json({ stored: body.events.map((e) => e.id) });
  });

  app.get('/admin/device-events', admin, async (c) => {
    const deviceId = c.req.query('deviceId');
    let q = db
      .selectFrom('audit')
      .selectAll()
      .where('action', 'like', `${ACTION_PREFIX}%`)
      .orderBy('id', 'desc')
      .limit(500);
    if (deviceId) q = q.where('actor', '=', deviceId);
    const rows = await q.execute();
    return c.json({
      events: rows.map((r) => ({
        id: r.id,
        at: r.at,
        deviceId: r.actor,
        kind: r.action.slice(ACTION_PREFIX.length),
        ...(JSON.parse(r.details) as Record<string, unknown>),
      })),
    });
  });

  return app;
}
