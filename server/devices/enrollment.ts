/**
 * Identity: admins create one-time enrollment codes; a device trades one for its device token (returned once,
 * stored hashed). Admins list, revoke and restore devices; a device reads only its own record. Every change is
 * audited. The HTTP side is `routes/enrollment.ts`.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { z } from 'zod';
import {
  type DeviceView,
  ENROLLMENT_CODE_ALPHABET,
  ENROLLMENT_CODE_LENGTH,
  type EnrollmentCodeRequestSchema,
  type EnrollmentCodeResponse,
  type EnrollRequestSchema,
  type EnrollResponseSchema,
  normalizeEnrollmentCode,
} from '../../model/contract/index.ts';
import { hashToken, type TokenService } from '../auth/tokens.ts';
import { DomainError } from '../domain-error.ts';
import { recordAudit } from '../registry/audit.ts';
import type { Database, DevicesTable } from '../store/schema.ts';

export function enrollmentCode(): string {
  const b = randomBytes(ENROLLMENT_CODE_LENGTH);
  let s = '';
  for (let i = 0; i < ENROLLMENT_CODE_LENGTH; i++) s += ENROLLMENT_CODE_ALPHABET[(b[i] as number) % 32];
  return normalizeEnrollmentCode(s);
}

function deviceView(d: DevicesTable, now: number): DeviceView {
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

export class Enrollment {
  readonly #db: Kysely<Database>;
  readonly #tokens: TokenService;
  /** The label's signing key (JWK) handed to enrolling devices, when the server has one. */
  readonly #publicKey: JsonWebKey | null;

  constructor(db: Kysely<Database>, tokens: TokenService, publicKey: JsonWebKey | null) {
    this.#db = db;
    this.#tokens = tokens;
    this.#publicKey = publicKey;
  }

  /** A one-time code for any new device, or (deviceId) for re-enrolling that device. */
  async createCode(actor: string, body: z.output<typeof EnrollmentCodeRequestSchema>): Promise<EnrollmentCodeResponse> {
    const forDevice = body.deviceId ?? null;
    const resetKey = body.resetKey === true;
    if (resetKey && !forDevice) throw new DomainError('invalid-value', { problem: 'resetKey needs a deviceId' });
    if (forDevice) {
      const d = await this.#db
        .selectFrom('devices')
        .select('revoked_at')
        .where('id', '=', forDevice)
        .executeTakeFirst();
      if (!d) throw new DomainError('not-found', { deviceId: forDevice });
      if (d.revoked_at) throw new DomainError('device-revoked', { deviceId: forDevice, revokedAt: d.revoked_at });
    }
    const code = enrollmentCode();
    const now = new Date();
    const expiresAt = new Date(now.getTime() + body.expiresInHours * 3_600_000).toISOString();
    await this.#db
      .insertInto('enrollment_codes')
      .values({
        hash: hashToken(code),
        created_by: actor,
        created_at: now.toISOString(),
        expires_at: expiresAt,
        used_at: null,
        device_id: null,
        for_device_id: forDevice,
        reset_key: resetKey ? 1 : 0,
      })
      .execute();
    await recordAudit(this.#db, actor, 'enrollment-code', {
      expiresAt,
      ...(forDevice ? { deviceId: forDevice, resetKey } : {}),
    });
    return { code, expiresAt, ...(forDevice ? { deviceId: forDevice, resetKey } : {}) };
  }

  /**
   * Trades a code for a device token. A code without a device enrolls a new id only; an existing id needs a code
   * the admin issued for it, and a revoked one must be restored by an admin first. A refused attempt does not
   * spend the code.
   */
  async enroll(body: z.output<typeof EnrollRequestSchema>): Promise<z.input<typeof EnrollResponseSchema>> {
    const now = new Date().toISOString();
    const hash = hashToken(normalizeEnrollmentCode(body.code));
    const code = await this.#db
      .selectFrom('enrollment_codes')
      .select(['for_device_id', 'reset_key'])
      .where('hash', '=', hash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    if (!code) throw new DomainError('enrollment-code-invalid');
    const existing = await this.#db
      .selectFrom('devices')
      .select(['id', 'revoked_at'])
      .where('id', '=', body.deviceId)
      .executeTakeFirst();
    if (existing?.revoked_at) throw new DomainError('device-revoked', { deviceId: body.deviceId });
    if (existing && code.for_device_id !== body.deviceId)
      throw new DomainError('device-exists', { deviceId: body.deviceId });
    if (!existing && code.for_device_id !== null) throw new DomainError('enrollment-code-invalid');

    // Spend the code and write the device in one transaction: two enrollments racing for one new id (or one code)
    // end with one device and one spent code; the loser is told so and keeps nothing.
    await this.#db.transaction().execute(async (tx) => {
      const used = await tx
        .updateTable('enrollment_codes')
        .set({ used_at: now, device_id: body.deviceId })
        .where('hash', '=', hash)
        .where('used_at', 'is', null)
        .returning('hash')
        .executeTakeFirst();
      if (!used) throw new DomainError('enrollment-code-invalid');
      if (existing) {
        const r = await tx
          .updateTable('devices')
          .set({ label: body.label ?? null, enrolled_at: now })
          .where('id', '=', body.deviceId)
          .where('revoked_at', 'is', null)
          .returning('id')
          .executeTakeFirst();
        if (!r) throw new DomainError('device-revoked', { deviceId: body.deviceId });
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
        if (!r) throw new DomainError('device-exists', { deviceId: body.deviceId });
      }
    });
    // A re-enrollment replaces the device's tokens (the old install loses access); only device tokens, by role.
    const replaced = existing ? await this.#tokens.revokeSubject('device', body.deviceId) : 0;
    const token = await this.#tokens.issue('device', body.deviceId);
    const keyReset = existing && code.reset_key === 1 && this.#publicKey ? { at: now } : null;
    await recordAudit(this.#db, `device:${body.deviceId}`, existing ? 're-enroll' : 'enroll', {
      deviceId: body.deviceId,
      label: body.label ?? null,
      ...(keyReset ? { keyReset: true } : {}),
    });
    await recordAudit(this.#db, 'server', 'device-token-issue', { deviceId: body.deviceId, replacedTokens: replaced });
    return {
      deviceId: body.deviceId,
      token,
      ...(this.#publicKey ? { publicKey: { ...this.#publicKey } as Record<string, unknown> } : {}),
      ...(keyReset ? { keyReset } : {}),
    };
  }

  async device(deviceId: string): Promise<DeviceView> {
    const d = await this.#db.selectFrom('devices').selectAll().where('id', '=', deviceId).executeTakeFirst();
    if (!d) throw new DomainError('not-found', { deviceId });
    return deviceView(d, Date.now());
  }

  async devices(): Promise<DeviceView[]> {
    const rows = await this.#db.selectFrom('devices').selectAll().orderBy('last_seen_at', 'desc').execute();
    const now = Date.now();
    return rows.map((d) => deviceView(d, now));
  }

  async revoke(actor: string, id: string): Promise<{ deviceId: string; revokedTokens: number }> {
    const r = await this.#db
      .updateTable('devices')
      .set({ revoked_at: new Date().toISOString() })
      .where('id', '=', id)
      .returning('id')
      .executeTakeFirst();
    if (!r) throw new DomainError('not-found', { deviceId: id });
    const tokens = await this.#tokens.revokeSubject('device', id);
    await recordAudit(this.#db, actor, 'revoke-device', { deviceId: id, tokens });
    return { deviceId: id, revokedTokens: tokens };
  }

  /** Lifts a revocation (audited). The device gets no token: it enrolls again with a code issued for it. */
  async restore(actor: string, id: string): Promise<{ deviceId: string; restored: true }> {
    const r = await this.#db
      .updateTable('devices')
      .set({ revoked_at: null })
      .where('id', '=', id)
      .where('revoked_at', 'is not', null)
      .returning('id')
      .executeTakeFirst();
    if (!r) {
      const d = await this.#db.selectFrom('devices').select('id').where('id', '=', id).executeTakeFirst();
      if (!d) throw new DomainError('not-found', { deviceId: id });
      throw new DomainError('conflict', { deviceId: id, problem: 'the device is not revoked' });
    }
    await recordAudit(this.#db, actor, 'restore-device', { deviceId: id });
    return { deviceId: id, restored: true as const };
  }
}
