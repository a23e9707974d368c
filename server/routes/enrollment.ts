/**
 * Identity: admins create one-time enrollment codes; a device trades one for
 * its device token (returned once, stored hashed). Admins list and revoke
 * devices; a device reads only its own record.
 */
import { randomBytes } from 'node:crypto';
import { getConnInfo } from '@hono/node-server/conninfo';
import { Hono } from 'hono';
import { uuidv7 } from 'uuidv7';
import { z } from 'zod';
import {
  ENROLLMENT_CODE_ALPHABET,
  ENROLLMENT_CODE_LENGTH,
  EnrollRequestSchema,
  normalizeEnrollmentCode,
} from '../../model/contract/index.ts';
import { RateLimiter } from '../auth/rate-limit.ts';
import { hashToken } from '../auth/tokens.ts';
import type { Deps } from '../deps.ts';
import { type AuthEnv, requireRole } from '../http/auth.ts';
import { ApiError } from '../http/errors.ts';
import { readBody } from '../http/json-body.ts';
import { recordAudit } from '../registry/audit.ts';
import type { DevicesTable } from '../store/schema.ts';

export function enrollmentCode(): string {
  const b = randomBytes(ENROLLMENT_CODE_LENGTH);
  let s = '';
  for (let i = 0; i < ENROLLMENT_CODE_LENGTH; i++) s += ENROLLMENT_CODE_ALPHABET[(b[i] as number) % 32];
  return normalizeEnrollmentCode(s);
}

const CreateCodeSchema = z.strictObject({
  expiresInHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(72),
});

function deviceView(d: DevicesTable, now: number) {
  const enrolled = Date.parse(d.enrolled_at);
  const lastSeen = d.last_seen_at ? Date.parse(d.last_seen_at) : null;
  // Logs per day since enrollment, times days since the last sync: a rough "not yet synced" estimate.
  const days = Math.max(1, (now - enrolled) / 86_400_000);
  const rate = d.logs_total / days;
  const unsyncedEstimate = lastSeen === null || d.revoked_at ? 0 : Math.round(rate * ((now - lastSeen) / 86_400_000));
  return {
    id: d.id,
    label: d.label,
    enrolledAt: d.enrolled_at,
    lastSeenAt: d.last_seen_at,
    lastPredictionAt: d.last_event_at,
    lastVersion: d.last_version,
    logsTotal: d.logs_total,
    revokedAt: d.revoked_at,
    unsyncedEstimate,
  };
}

export function enrollmentRoutes(deps: Deps) {
  const app = new Hono<AuthEnv>();
  const admin = requireRole(deps, 'admin');
  const device = requireRole(deps, 'device', 'admin');
  const db = deps.store.db;

  app.post('/admin/enrollment-codes', admin, async (c) => {
    const body =
      (c.req.header('content-length') ?? '0') === '0' ? { expiresInHours: 72 } : await readBody(c, CreateCodeSchema);
    const code = enrollmentCode();
    const now = new Date();
    const expiresAt = new Date(now.getTime() + body.expiresInHours * 3_600_000).toISOString();
    await db
      .insertInto('enrollment_codes')
      .values({
        hash: hashToken(code),
        created_by: c.get('principal').subject,
        created_at: now.toISOString(),
        expires_at: expiresAt,
        used_at: null,
        device_id: null,
      })
      .execute();
    await recordAudit(db, c.get('principal').subject, 'enrollment-code', { expiresAt });
    return c.json({ code, expiresAt }, 201);
  });

  // Enrollment is the one write without a token: limit guesses per client address.
  const guesses = new RateLimiter(30);
  app.post('/enroll', async (c) => {
    let ip = 'unknown';
    try {
      ip = getConnInfo(c).remote.address ?? 'unknown';
    } catch {
      // no socket (app.request in tests)
    }
    const wait = guesses.hit(ip);
    if (wait > 0) {
      c.header('Retry-After', String(wait));
      throw new ApiError('rate-limited', { retryAfterSeconds: wait });
    }
    const body = await readBody(c, EnrollRequestSchema);
    const now = new Date().toISOString();
    const used = await db
      .updateTable('enrollment_codes')
      .set({ used_at: now, device_id: body.deviceId })
      .where('hash', '=', hashToken(normalizeEnrollmentCode(body.code)))
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .returning('hash')
      .executeTakeFirst();
    if (!used) throw new ApiError('enrollment-code-invalid');
    // Re-enrolling a device id replaces its tokens (the old device install loses access).
    const replaced = await deps.tokens.revokeSubject(body.deviceId);
    await db
      .insertInto('devices')
      .values({
        id: body.deviceId,
        label: body.label ?? null,
        enrolled_at: now,
        last_seen_at: null,
        last_version: null,
        logs_total: 0,
        revoked_at: null,
      })
      .onConflict((oc) =>
        oc.column('id').doUpdateSet({ label: body.label ?? null, enrolled_at: now, revoked_at: null }),
      )
      .execute();
    const token = await deps.tokens.issue('device', body.deviceId);
    await recordAudit(db, `device:${body.deviceId}`, 'enroll', { deviceId: body.deviceId, label: body.label ?? null });
    await recordAudit(db, 'server', 'device-token-issue', { deviceId: body.deviceId, replacedTokens: replaced });
    return c.json({ deviceId: body.deviceId, token, ...(deps.publicKey ? { publicKey: deps.publicKey } : {}) }, 201);
  });

  app.get('/devices/me', device, async (c) => {
    const p = c.get('principal');
    const d = await db.selectFrom('devices').selectAll().where('id', '=', p.subject).executeTakeFirst();
    if (!d) throw new ApiError('not-found', { deviceId: p.subject });
    return c.json(deviceView(d, Date.now()));
  });

  app.get('/admin/devices', admin, async (c) => {
    const rows = await db.selectFrom('devices').selectAll().orderBy('last_seen_at', 'desc').execute();
    const now = Date.now();
    return c.json({ devices: rows.map((d) => deviceView(d, now)) });
  });

  app.post('/admin/devices/:id/revoke', admin, async (c) => {
    const id = c.req.param('id');
    const r = await db
      .updateTable('devices')
      .set({ revoked_at: new Date().toISOString() })
      .where('id', '=', id)
      .returning('id')
      .executeTakeFirst();
    if (!r) throw new ApiError('not-found', { deviceId: id });
    const tokens = await deps.tokens.revokeSubject(id);
    await deps.store.db
      .insertInto('audit')
      .values({
        id: uuidv7(),
        at: new Date().toISOString(),
        actor: c.get('principal').subject,
        action: 'revoke-device',
        details: JSON.stringify({ deviceId: id, tokens }),
      })
      .execute();
    return c.json({ deviceId: id, revokedTokens: tokens });
  });

  return app;
}
