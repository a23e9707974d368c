/**
 * Identity: admins create one-time enrollment codes; a device trades one for
 * its device token (returned once, stored hashed). Admins list and revoke
 * devices; a device reads only its own record.
 */
import { randomBytes } from 'node:crypto';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import {
  ENDPOINTS,
  ENROLLMENT_CODE_ALPHABET,
  ENROLLMENT_CODE_LENGTH,
  normalizeEnrollmentCode,
} from '../../model/contract/index.ts';
import { RateLimiter } from '../auth/rate-limit.ts';
import { hashToken } from '../auth/tokens.ts';
import type { Deps } from '../deps.ts';
import type { AuthEnv } from '../http/auth.ts';
import { clientAddress } from '../http/client-address.ts';
import { endpointMounter } from '../http/endpoint-routes.ts';
import { ApiError } from '../http/errors.ts';
import { recordAudit } from '../registry/audit.ts';
import type { DevicesTable } from '../store/schema.ts';

export function enrollmentCode(): string {
  const b = randomBytes(ENROLLMENT_CODE_LENGTH);
  let s = '';
  for (let i = 0; i < ENROLLMENT_CODE_LENGTH; i++) s += ENROLLMENT_CODE_ALPHABET[(b[i] as number) % 32];
  return normalizeEnrollmentCode(s);
}

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
  const app = new OpenAPIHono<AuthEnv>();
  const on = endpointMounter(app, deps);
  const db = deps.store.db;

  on(ENDPOINTS.createEnrollmentCode, {}, async (c, { body }) => {
    const forDevice = body.deviceId ?? null;
    const resetKey = body.resetKey === true;
    if (resetKey && !forDevice) throw new ApiError('invalid-value', { problem: 'resetKey needs a deviceId' });
    if (forDevice) {
      const d = await db.selectFrom('devices').select('revoked_at').where('id', '=', forDevice).executeTakeFirst();
      if (!d) throw new ApiError('not-found', { deviceId: forDevice });
      if (d.revoked_at) throw new ApiError('device-revoked', { deviceId: forDevice, revokedAt: d.revoked_at });
    }
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
        for_device_id: forDevice,
        reset_key: resetKey ? 1 : 0,
      })
      .execute();
    await recordAudit(db, c.get('principal').subject, 'enrollment-code', {
      expiresAt,
      ...(forDevice ? { deviceId: forDevice, resetKey } : {}),
    });
    return { json: { code, expiresAt, ...(forDevice ? { deviceId: forDevice, resetKey } : {}) } };
  });

  /**
   * Enrollment is the one write without a token. A code without a device enrolls a new id only; an existing id
   * needs a code the admin issued for it, and a revoked one must be restored by an admin first. A refused attempt
   * does not spend the code.
   */
  const guesses = new RateLimiter(30);
  const limitGuesses: MiddlewareHandler<AuthEnv> = async (c, next) => {
    const wait = guesses.hit(clientAddress(c, deps.config.trustProxy));
    if (wait > 0) {
      c.header('Retry-After', String(wait));
      throw new ApiError('rate-limited', { retryAfterSeconds: wait });
    }
    await next();
  };
  on(ENDPOINTS.enroll, { middleware: [limitGuesses] }, async (_c, { body }) => {
    const now = new Date().toISOString();
    const hash = hashToken(normalizeEnrollmentCode(body.code));
    const code = await db
      .selectFrom('enrollment_codes')
      .select(['for_device_id', 'reset_key'])
      .where('hash', '=', hash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    if (!code) throw new ApiError('enrollment-code-invalid');
    const existing = await db
      .selectFrom('devices')
      .select(['id', 'revoked_at'])
      .where('id', '=', body.deviceId)
      .executeTakeFirst();
    if (existing?.revoked_at) throw new ApiError('device-revoked', { deviceId: body.deviceId });
    if (existing && code.for_device_id !== body.deviceId)
      throw new ApiError('device-exists', { deviceId: body.deviceId });
    if (!existing && code.for_device_id !== null) throw new ApiError('enrollment-code-invalid');

    // Spend the code and write the device in one transaction: two enrollments racing for one new id (or one code)
    // end with one device and one spent code; the loser is told so and keeps nothing.
    await db.transaction().execute(async (tx) => {
      const used = await tx
        .updateTable('enrollment_codes')
        .set({ used_at: now, device_id: body.deviceId })
        .where('hash', '=', hash)
        .where('used_at', 'is', null)
        .returning('hash')
        .executeTakeFirst();
      if (!used) throw new ApiError('enrollment-code-invalid');
      if (existing) {
        const r = await tx
          .updateTable('devices')
          .set({ label: body.label ?? null, enrolled_at: now })
          .where('id', '=', body.deviceId)
          .where('revoked_at', 'is', null)
          .returning('id')
          .executeTakeFirst();
        if (!r) throw new ApiError('device-revoked', { deviceId: body.deviceId });
      } else {
        const r = await tx
          .insertInto('devices')
          .values({
            id: body.deviceId,
            label: body.label ?? null,
            enrolled_at: now,
            last_seen_at: null,
            last_event_at: null,
            last_version: null,
            logs_total: 0,
            revoked_at: null,
          })
          .onConflict((oc) => oc.column('id').doNothing())
          .returning('id')
          .executeTakeFirst();
        if (!r) throw new ApiError('device-exists', { deviceId: body.deviceId });
      }
    });
    // A re-enrollment replaces the device's tokens (the old install loses access); only device tokens, by role.
    const replaced = existing ? await deps.tokens.revokeSubject('device', body.deviceId) : 0;
    const token = await deps.tokens.issue('device', body.deviceId);
    const keyReset = existing && code.reset_key === 1 && deps.publicKey ? { at: now } : null;
    await recordAudit(db, `device:${body.deviceId}`, existing ? 're-enroll' : 'enroll', {
      deviceId: body.deviceId,
      label: body.label ?? null,
      ...(keyReset ? { keyReset: true } : {}),
    });
    await recordAudit(db, 'server', 'device-token-issue', { deviceId: body.deviceId, replacedTokens: replaced });
    return {
      json: {
        deviceId: body.deviceId,
        token,
        ...(deps.publicKey ? { publicKey: { ...deps.publicKey } as Record<string, unknown> } : {}),
        ...(keyReset ? { keyReset } : {}),
      },
    };
  });

  on(ENDPOINTS.ownDevice, {}, async (c) => {
    const p = c.get('principal');
    const d = await db.selectFrom('devices').selectAll().where('id', '=', p.subject).executeTakeFirst();
    if (!d) throw new ApiError('not-found', { deviceId: p.subject });
    return { json: deviceView(d, Date.now()) };
  });

  on(ENDPOINTS.listDevices, {}, async () => {
    const rows = await db.selectFrom('devices').selectAll().orderBy('last_seen_at', 'desc').execute();
    const now = Date.now();
    return { json: { devices: rows.map((d) => deviceView(d, now)) } };
  });

  on(ENDPOINTS.revokeDevice, {}, async (c, { params }) => {
    const id = params.id;
    const r = await db
      .updateTable('devices')
      .set({ revoked_at: new Date().toISOString() })
      .where('id', '=', id)
      .returning('id')
      .executeTakeFirst();
    if (!r) throw new ApiError('not-found', { deviceId: id });
    const tokens = await deps.tokens.revokeSubject('device', id);
    await recordAudit(db, c.get('principal').subject, 'revoke-device', { deviceId: id, tokens });
    return { json: { deviceId: id, revokedTokens: tokens } };
  });

  /** Lifts a revocation (audited). The device gets no token: it enrolls again with a code issued for it. */
  on(ENDPOINTS.restoreDevice, {}, async (c, { params }) => {
    const id = params.id;
    const r = await db
      .updateTable('devices')
      .set({ revoked_at: null })
      .where('id', '=', id)
      .where('revoked_at', 'is not', null)
      .returning('id')
      .executeTakeFirst();
    if (!r) {
      const d = await db.selectFrom('devices').select('id').where('id', '=', id).executeTakeFirst();
      if (!d) throw new ApiError('not-found', { deviceId: id });
      throw new ApiError('conflict', { deviceId: id, problem: 'the device is not revoked' });
    }
    await recordAudit(db, c.get('principal').subject, 'restore-device', { deviceId: id });
    return { json: { deviceId: id, restored: true as const } };
  });

  return app;
}
