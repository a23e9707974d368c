/**
 * Bearer tokens and enrollment codes: random (32 bytes), stored only as
 * sha256, revocable. Looked-up tokens are cached briefly in memory so the
 * ingest hot path does not query the store on every batch; revoking on this
 * instance drops the cache entry at once (other instances: within the TTL).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Store } from '../store/store.ts';

export type Role = 'admin' | 'device';

export interface Principal {
  role: Role;
  /** Device id for device tokens, "admin" (or a name) for admin tokens. */
  subject: string;
  tokenHash: string;
}

/** Subject of the token set by ADMIN_TOKEN (one at a time). */
export const CONFIGURED_ADMIN = 'admin:env';

/** What a bearer token may look like (the same rule as ADMIN_TOKEN): base64url, 32–200 characters. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{32,200}$/;

export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export class TokenService {
  readonly #cache = new Map<string, { p: Principal | null; at: number }>();
  readonly #store: Store;
  readonly #cacheMs: number;
  constructor(store: Store, cacheMs: number) {
    this.#store = store;
    this.#cacheMs = cacheMs;
  }

  async issue(role: Role, subject: string): Promise<string> {
    const token = randomToken();
    await this.#store.db
      .insertInto('tokens')
      .values({ hash: hashToken(token), role, subject, created_at: new Date().toISOString(), revoked_at: null })
      .execute();
    return token;
  }

  /** Registers a token chosen by the operator (ADMIN_TOKEN), idempotently. */
  async ensure(token: string, role: Role, subject: string): Promise<void> {
    await this.#store.db
      .insertInto('tokens')
      .values({ hash: hashToken(token), role, subject, created_at: new Date().toISOString(), revoked_at: null })
      .onConflict((oc) => oc.column('hash').doNothing())
      .execute();
  }

  /**
   * Registers ADMIN_TOKEN under its own subject and revokes any earlier configured token: changing ADMIN_TOKEN
   * and restarting ends the old one. Returns how many earlier configured tokens were revoked.
   */
  async ensureConfigured(token: string): Promise<number> {
    const hash = hashToken(token);
    await this.ensure(token, 'admin', CONFIGURED_ADMIN);
    // A store from before this rule holds the configured token under subject `admin`: move it into its own
    // subject, so the next rotation finds it.
    await this.#store.db
      .updateTable('tokens')
      .set({ subject: CONFIGURED_ADMIN })
      .where('hash', '=', hash)
      .where('role', '=', 'admin')
      .where('subject', '=', 'admin')
      .execute();
    return this.#revoke('admin', CONFIGURED_ADMIN, hash);
  }

  async hasAdmin(): Promise<boolean> {
    const row = await this.#store.db
      .selectFrom('tokens')
      .select('hash')
      .where('role', '=', 'admin')
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return row !== undefined;
  }

  async lookup(token: string): Promise<Principal | null> {
    const hash = hashToken(token);
    const now = Date.now();
    const hit = this.#cache.get(hash);
    if (hit && now - hit.at < this.#cacheMs) return hit.p;
    const row = await this.#store.db
      .selectFrom('tokens')
      .select(['role', 'subject', 'revoked_at'])
      .where('hash', '=', hash)
      .executeTakeFirst();
    const p = row && row.revoked_at === null ? { role: row.role as Role, subject: row.subject, tokenHash: hash } : null;
    if (this.#cache.size > 10_000) this.#cache.clear();
    this.#cache.set(hash, { p, at: now });
    return p;
  }

  /**
   * Revokes every token of one subject in one role's namespace (a device's, or a job's admin token). Devices and
   * admins never share a namespace, so a device id can never name an admin token. Returns how many were revoked.
   */
  async revokeSubject(role: Role, subject: string): Promise<number> {
    return this.#revoke(role, subject);
  }

  /** Revokes the live tokens of one subject in one role's namespace, but for the one hashed `keep`; returns how many. */
  async #revoke(role: Role, subject: string, keep?: string): Promise<number> {
    const rows = await this.#store.db
      .updateTable('tokens')
      .set({ revoked_at: new Date().toISOString() })
      .where('role', '=', role)
      .where('subject', '=', subject)
      .$if(keep !== undefined, (q) => q.where('hash', '!=', keep as string))
      .where('revoked_at', 'is', null)
      .returning('hash')
      .execute();
    for (const r of rows) this.#cache.delete(r.hash);
    return rows.length;
  }
}
