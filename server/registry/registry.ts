/**
 * The model registry: immutable, content-addressed versions (manifest +
 * files), their stages (candidate → canary → production → archived), the
 * rollout state (canary %, shadow) and device assignment. Every change is
 * recorded in the audit log with who and when.
 */
import { createHash } from 'node:crypto';
import {
  type Assignment,
  contentVersion,
  type Manifest,
  ManifestSchema,
  type ReferenceProfile,
  type Result,
} from '../../model/contract/index.ts';
import { verifyModelPackage } from '../../model/signing/verify-model-package.ts';
import { DomainError } from '../domain-error.ts';
import type { Store } from '../store/store.ts';
import { type AuditEntry, type AuditQuery, auditEntries, recordAudit } from './audit.ts';

export const STAGES = ['candidate', 'canary', 'production', 'archived'] as const;
export type Stage = (typeof STAGES)[number];

export type ManifestVerifier = (manifest: Manifest) => Promise<Result<true>>;

export interface ModelSummary {
  version: string;
  stage: Stage;
  createdAt: string;
  publishedAt: string;
  publishedBy: string;
  replaced: string | null;
  manifest: Manifest;
}

export interface RolloutState {
  production: string | null;
  canary: string | null;
  canaryPercent: number;
  shadow: string | null;
  updatedAt: string;
  updatedBy: string;
}

/** Stable bucket 0–99 of a device (sha256 of its id), so a device stays in its cohort. */
export function deviceBucket(deviceId: string): number {
  return createHash('sha256').update(deviceId).digest().readUInt32BE(0) % 100;
}

export class Registry {
  readonly #references = new Map<string, ReferenceProfile>();
  /** Called when the set of versions or stages changes (metrics, caches). */
  onChange: () => void = () => {};

  readonly #store: Store;
  readonly #verify: ManifestVerifier | null;
  constructor(store: Store, verify: ManifestVerifier | null) {
    this.#store = store;
    this.#verify = verify;
  }

  async #audit(actor: string, action: string, details: Record<string, unknown>): Promise<void> {
    await recordAudit(this.#store.db, actor, action, details);
  }

  /**
   * Checks and stores a version: manifest schema, signature (when a label key
   * is configured), each file's bytes and sha256, and the content-addressed
   * version id. Publishing the same version again is a no-op.
   */
  async publish(
    rawManifest: unknown,
    files: ReadonlyMap<string, Uint8Array>,
    actor: string,
    stage: Stage = 'candidate',
    /** Only for the default model shipped inside the product (the PWA bundles the same bytes): no label signature. */
    opts: { bundled?: boolean } = {},
  ): Promise<{ version: string; created: boolean }> {
    const parsed = ManifestSchema.safeParse(rawManifest);
    if (!parsed.success) {
      throw new DomainError(
        'manifest-invalid',
        parsed.error.issues.slice(0, 20).map((i) => ({ path: i.path.map(String), message: i.message })),
      );
    }
    const manifest = parsed.data;
    if (this.#verify && !opts.bundled) {
      const v = await this.#verify(manifest);
      if (!v.ok) throw new DomainError(v.code, v.details);
    }
    const checked = await verifyModelPackage(manifest, files, { origin: 'upload' });
    if (!checked.ok) throw new DomainError(checked.code, checked.details);
    const expected = await contentVersion(manifest.files);
    if (expected !== manifest.version) {
      throw new DomainError('manifest-invalid', {
        problem: 'version is not content-addressed',
        expected,
        got: manifest.version,
      });
    }
    const existing = await this.#store.db
      .selectFrom('models')
      .select('version')
      .where('version', '=', manifest.version)
      .executeTakeFirst();
    if (existing) return { version: manifest.version, created: false };
    const now = new Date().toISOString();
    // Two instances publishing the same version at once: the second finds the row taken and answers "not created".
    const created = await this.#store.db.transaction().execute(async (tx) => {
      const row = await tx
        .insertInto('models')
        .values({
          version: manifest.version,
          stage,
          manifest: JSON.stringify(manifest),
          created_at: manifest.createdAt,
          published_at: now,
          published_by: actor,
          replaced: null,
        })
        .onConflict((oc) => oc.column('version').doNothing())
        .returning('version')
        .executeTakeFirst();
      if (!row) return false;
      for (const f of manifest.files) {
        await tx
          .insertInto('model_files')
          .values({
            version: manifest.version,
            path: f.path,
            sha256: f.sha256,
            bytes: f.bytes,
            data: files.get(f.path) as Uint8Array,
          })
          .execute();
      }
      return true;
    });
    if (!created) return { version: manifest.version, created: false };
    await this.#audit(actor, 'publish', { version: manifest.version, stage });
    this.onChange();
    return { version: manifest.version, created: true };
  }

  async list(): Promise<ModelSummary[]> {
    const rows = await this.#store.db.selectFrom('models').selectAll().orderBy('published_at', 'desc').execute();
    return rows.map((r) => ({
      version: r.version,
      stage: r.stage as Stage,
      createdAt: r.created_at,
      publishedAt: r.published_at,
      publishedBy: r.published_by,
      replaced: r.replaced,
      manifest: JSON.parse(r.manifest) as Manifest,
    }));
  }

  async get(version: string): Promise<{ stage: Stage; manifest: Manifest; replaced: string | null } | null> {
    const r = await this.#store.db.selectFrom('models').selectAll().where('version', '=', version).executeTakeFirst();
    return r ? { stage: r.stage as Stage, manifest: JSON.parse(r.manifest) as Manifest, replaced: r.replaced } : null;
  }

  /** The reference profile of a version (cached: versions are immutable), or null when unknown. */
  async reference(version: string): Promise<ReferenceProfile | null> {
    const hit = this.#references.get(version);
    if (hit) return hit;
    const m = await this.get(version);
    if (!m) return null;
    this.#references.set(version, m.manifest.reference);
    return m.manifest.reference;
  }

  async file(version: string, path: string): Promise<{ sha256: string; data: Uint8Array } | null> {
    const r = await this.#store.db
      .selectFrom('model_files')
      .select(['sha256', 'data'])
      .where('version', '=', version)
      .where('path', '=', path)
      .executeTakeFirst();
    return r ? { sha256: r.sha256, data: r.data } : null;
  }

  async production(): Promise<string | null> {
    const r = await this.#store.db
      .selectFrom('models')
      .select('version')
      .where('stage', '=', 'production')
      .executeTakeFirst();
    return r?.version ?? null;
  }

  async rollout(): Promise<RolloutState> {
    const [production, row] = await Promise.all([
      this.production(),
      this.#store.db.selectFrom('rollout').selectAll().where('id', '=', 1).executeTakeFirst(),
    ]);
    return {
      production,
      canary: row?.canary_version ?? null,
      canaryPercent: row?.canary_percent ?? 0,
      shadow: row?.shadow_version ?? null,
      updatedAt: row?.updated_at ?? '',
      updatedBy: row?.updated_by ?? '',
    };
  }

  async #saveRollout(s: Pick<RolloutState, 'canary' | 'canaryPercent' | 'shadow'>, actor: string): Promise<void> {
    const values = {
      id: 1,
      canary_version: s.canary,
      canary_percent: s.canaryPercent,
      shadow_version: s.shadow,
      updated_at: new Date().toISOString(),
      updated_by: actor,
    };
    await this.#store.db
      .insertInto('rollout')
      .values(values)
      .onConflict((oc) => oc.column('id').doUpdateSet({ ...values, id: undefined }))
      .execute();
  }

  async #requireVersion(version: string): Promise<{ stage: Stage }> {
    const m = await this.get(version);
    if (!m) throw new DomainError('unknown-model-version', { version }, { missing: true });
    return m;
  }

  /** Throws `conflict` (saying `problem`) unless the version is a candidate or the canary. */
  async #requireCandidateOrCanary(version: string, problem: string): Promise<void> {
    const m = await this.#requireVersion(version);
    if (m.stage !== 'candidate' && m.stage !== 'canary')
      throw new DomainError('conflict', { version, stage: m.stage, problem });
  }

  async #setStage(version: string, stage: Stage, replaced?: string | null): Promise<void> {
    await this.#store.db
      .updateTable('models')
      .set(replaced === undefined ? { stage } : { stage, replaced })
      .where('version', '=', version)
      .execute();
  }

  /** Makes a candidate (or the current canary) the canary for `percent`% of devices, with an equal control group. */
  async setCanary(version: string, percent: number, actor: string): Promise<RolloutState> {
    await this.#requireCandidateOrCanary(version, 'only a candidate or the canary can be canaried');
    const s = await this.rollout();
    if (!s.production) throw new DomainError('conflict', { problem: 'no production version to compare a canary with' });
    if (s.canary && s.canary !== version) await this.#setStage(s.canary, 'candidate');
    await this.#setStage(version, 'canary');
    await this.#saveRollout({ ...s, canary: version, canaryPercent: percent }, actor);
    await this.#audit(actor, 'canary', { version, percent, previousCanary: s.canary });
    this.onChange();
    return this.rollout();
  }

  /** Makes a version production; the old production is archived and remembered for rollback. */
  async promote(version: string, actor: string): Promise<RolloutState> {
    const m = await this.#requireVersion(version);
    if (m.stage === 'production') throw new DomainError('conflict', { version, problem: 'already production' });
    const s = await this.rollout();
    await this.#store.db.transaction().execute(async (tx) => {
      if (s.production)
        await tx.updateTable('models').set({ stage: 'archived' }).where('version', '=', s.production).execute();
      await tx
        .updateTable('models')
        .set({ stage: 'production', replaced: s.production })
        .where('version', '=', version)
        .execute();
    });
    await this.#saveRollout(
      {
        canary: s.canary === version ? null : s.canary,
        canaryPercent: s.canary === version ? 0 : s.canaryPercent,
        shadow: s.shadow === version ? null : s.shadow,
      },
      actor,
    );
    await this.#audit(actor, 'promote', { version, previousProduction: s.production, fromStage: m.stage });
    this.onChange();
    return this.rollout();
  }

  /** Rolls production back to the version it replaced; with an active canary, ends the canary first instead. */
  async rollback(actor: string): Promise<RolloutState> {
    const s = await this.rollout();
    if (s.canary) {
      await this.#setStage(s.canary, 'candidate');
      await this.#saveRollout({ ...s, canary: null, canaryPercent: 0 }, actor);
      await this.#audit(actor, 'rollback-canary', { version: s.canary });
      this.onChange();
      return this.rollout();
    }
    if (!s.production) throw new DomainError('conflict', { problem: 'nothing to roll back' });
    const previous = (await this.get(s.production))?.replaced;
    if (!previous)
      throw new DomainError('conflict', { problem: 'production has no previous version', version: s.production });
    await this.#store.db.transaction().execute(async (tx) => {
      await tx
        .updateTable('models')
        .set({ stage: 'archived' })
        .where('version', '=', s.production as string)
        .execute();
      await tx.updateTable('models').set({ stage: 'production' }).where('version', '=', previous).execute();
    });
    await this.#audit(actor, 'rollback', { from: s.production, to: previous });
    this.onChange();
    return this.rollout();
  }

  async archive(version: string, actor: string): Promise<void> {
    const m = await this.#requireVersion(version);
    if (m.stage === 'production')
      throw new DomainError('conflict', { version, problem: 'promote another version first' });
    const s = await this.rollout();
    await this.#setStage(version, 'archived');
    if (s.canary === version || s.shadow === version) {
      await this.#saveRollout(
        {
          canary: s.canary === version ? null : s.canary,
          canaryPercent: s.canary === version ? 0 : s.canaryPercent,
          shadow: s.shadow === version ? null : s.shadow,
        },
        actor,
      );
    }
    await this.#audit(actor, 'archive', { version, fromStage: m.stage });
    this.onChange();
  }

  /** Which candidate (or canary) devices run in shadow; null stops shadowing. */
  async setShadow(version: string | null, actor: string): Promise<RolloutState> {
    if (version) await this.#requireCandidateOrCanary(version, 'only a candidate or canary can run in shadow');
    const s = await this.rollout();
    await this.#saveRollout({ ...s, shadow: version }, actor);
    await this.#audit(actor, 'shadow', { version });
    return this.rollout();
  }

  async assignment(deviceId: string): Promise<Assignment> {
    const s = await this.rollout();
    if (!s.production) throw new DomainError('not-found', { problem: 'no production model is registered yet' });
    const b = deviceBucket(deviceId);
    let cohort: Assignment['cohort'] = 'production';
    let active = s.production;
    if (s.canary && s.canaryPercent > 0) {
      if (b < s.canaryPercent) {
        cohort = 'canary';
        active = s.canary;
      } else if (b < 2 * s.canaryPercent) cohort = 'control';
    }
    return { active, cohort, shadow: s.shadow, checkedAt: new Date().toISOString() };
  }

  async auditLog(limit = 100, q: Omit<AuditQuery, 'limit'> = {}): Promise<AuditEntry[]> {
    return auditEntries(this.#store.db, { ...q, limit });
  }
}
