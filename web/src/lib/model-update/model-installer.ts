/**
 * Installs signed model versions on the device. A version the server assigns is
 * downloaded, checked (manifest schema, content-addressed version, every
 * file's size and sha256, the label's signature against the pinned key) and
 * only then staged. Staged versions are activated at the next start or when
 * the user accepts — never mid-task — and only if they load and pass the
 * warm-up parity check; otherwise they are refused and reported, and the
 * previous version stays active. Storage, network and model loading are
 * injected so all of this is tested without a browser.
 */
import { contentVersion } from '../../../../model/contract/canonical.ts';
import { type ErrorCode, type Failure, fail, ok, type Result } from '../../../../model/contract/errors.ts';
import { type Manifest, ManifestSchema } from '../../../../model/contract/manifest.ts';
import { verifyManifest } from '../../../../model/signing/manifest-signature.ts';
import { verifyModelPackage } from '../../../../model/signing/verify-model-package.ts';

export interface StoredModel {
  readonly manifest: Manifest;
  readonly files: ReadonlyMap<string, Uint8Array>;
}

export interface Refusal {
  readonly version: string;
  readonly code: ErrorCode;
  readonly message: string;
  readonly at: string;
}

export interface ModelPointers {
  readonly active: string | null;
  readonly previous: string | null;
  /** Downloaded and verified, waiting for the next start or the user's yes. */
  readonly staged: string | null;
  readonly refused: readonly Refusal[];
}

export const NO_POINTERS: ModelPointers = { active: null, previous: null, staged: null, refused: [] };

/** Where model versions and the pointers live on the device (IndexedDB in the app). */
export interface ModelVault {
  get(version: string): Promise<StoredModel | undefined>;
  put(model: StoredModel): Promise<void>;
  delete(version: string): Promise<void>;
  pointers(): Promise<ModelPointers>;
  setPointers(p: ModelPointers): Promise<void>;
}

/** Fetches a version's manifest (no `path`) or one of its files, as bytes. */
export type Download = (target: { version: string; path?: string }) => Promise<Result<Uint8Array>>;

export interface ModelInstallerOptions {
  readonly vault: ModelVault;
  readonly download: Download;
  /** The label's public key pinned at enrollment or build; null refuses every download. */
  readonly publicKey: () => Promise<JsonWebKey | null>;
  /** Loads the model and runs the warm-up parity check (in the inference worker in the app). */
  readonly tryLoad: (model: StoredModel) => Promise<Result<unknown>>;
  /** Told about every refusal and rollback, so the server hears of it. */
  readonly report?: (event: { kind: 'refused' | 'rolled-back' | 'activated'; version: string; code?: string }) => void;
  readonly now?: () => Date;
}

export type StageResult =
  | { readonly status: 'already-active' | 'already-staged' | 'staged'; readonly version: string }
  | { readonly status: 'refused'; readonly refusal: Refusal }
  /** Could not be fetched now (offline, server busy, token refused): tried again at the next check, not refused. */
  | { readonly status: 'unavailable'; readonly version: string; readonly code: ErrorCode };

/** Failures that say nothing about the model itself. */
const TRANSIENT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'network-error',
  'rate-limited',
  'unauthorized',
  'forbidden',
  'internal',
]);

export class ModelInstaller {
  readonly #o: ModelInstallerOptions;

  constructor(options: ModelInstallerOptions) {
    this.#o = options;
  }

  /** Downloads and verifies `version`; stages it when everything checks out. */
  async stage(version: string): Promise<StageResult> {
    const p = await this.#o.vault.pointers();
    if (p.active === version) return { status: 'already-active', version };
    if (p.staged === version) return { status: 'already-staged', version };
    // A version verified earlier (the previous one, a shadow candidate) is not downloaded again.
    const kept = await this.#o.vault.get(version);
    const fetched = kept ? ok(kept) : await this.#fetchVerified(version);
    if (!fetched.ok && TRANSIENT.has(fetched.code)) return { status: 'unavailable', version, code: fetched.code };
    if (!fetched.ok) return { status: 'refused', refusal: await this.#refuse(version, fetched) };
    await this.#o.vault.put(fetched.value);
    const now = await this.#o.vault.pointers();
    // A replaced staged version that is neither active nor previous is no longer needed.
    if (now.staged && now.staged !== now.active && now.staged !== now.previous) await this.#o.vault.delete(now.staged);
    await this.#o.vault.setPointers({ ...now, staged: version });
    return { status: 'staged', version };
  }

  /**
   * Activates the staged version if it loads and passes warm-up; keeps the
   * current one otherwise. Call at start-up or when the user accepts.
   */
  async activateStaged(): Promise<{ active: string | null; refusal?: Refusal }> {
    const p = await this.#o.vault.pointers();
    if (!p.staged) return { active: p.active };
    const staged = await this.#o.vault.get(p.staged);
    const loaded = staged ? await this.#o.tryLoad(staged) : fail('model-load-failed', { reason: 'not in storage' });
    if (!loaded.ok) {
      const refusal = await this.#refuse(p.staged, loaded);
      return { active: p.active, refusal };
    }
    if (p.previous && p.previous !== p.active) await this.#o.vault.delete(p.previous);
    await this.#o.vault.setPointers({ ...p, previous: p.active, active: p.staged, staged: null });
    this.#o.report?.({ kind: 'activated', version: p.staged });
    return { active: p.staged };
  }

  /**
   * Downloads and verifies `version` into the vault without staging it: a shadow candidate, which runs beside
   * the active model but is never activated by this.
   */
  async fetchCandidate(version: string): Promise<Result<StoredModel, ErrorCode> & { refusal?: Refusal }> {
    const kept = await this.#o.vault.get(version);
    if (kept) return ok(kept);
    const fetched = await this.#fetchVerified(version);
    if (!fetched.ok && TRANSIENT.has(fetched.code)) return fetched;
    if (!fetched.ok) return { ...fetched, refusal: await this.#refuse(version, fetched) };
    await this.#o.vault.put(fetched.value);
    return fetched;
  }

  /** A shadow candidate's refusal happens in the worker (parity, NaN): record and report it like any other. */
  refuse(version: string, f: Failure): Promise<Refusal> {
    return this.#refuse(version, f);
  }

  /**
   * The active version failed in use (load error, NaN): go back to the previous one, or to the model
   * bundled with the app when there is none (`active: null`).
   */
  async rollBack(code: ErrorCode): Promise<{ active: string | null }> {
    const p = await this.#o.vault.pointers();
    if (!p.active) return { active: p.active };
    const refusal = this.#refusal(p.active, fail(code));
    await this.#o.vault.setPointers({
      ...p,
      active: p.previous,
      previous: null,
      refused: [...p.refused, refusal],
    });
    this.#o.report?.({ kind: 'rolled-back', version: p.active, code });
    return { active: p.previous };
  }

  async #fetchVerified(version: string): Promise<Result<StoredModel>> {
    const raw = await this.#o.download({ version });
    if (!raw.ok) return raw;
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(raw.value));
    } catch {
      return fail('manifest-invalid', { reason: 'not JSON' });
    }
    const parsed = ManifestSchema.safeParse(json);
    if (!parsed.success) return fail('manifest-invalid', { issues: parsed.error.issues.slice(0, 5) });
    const manifest = parsed.data;
    if (manifest.version !== version)
      return fail('manifest-invalid', { reason: `manifest is for ${manifest.version}` });
    const key = await this.#o.publicKey();
    if (!key) return fail('signature-missing', { reason: 'no label key is pinned on this device' });
    const signed = await verifyManifest(manifest, key);
    if (!signed.ok) return signed;
    if ((await contentVersion(manifest.files)) !== version) {
      return fail('hash-mismatch', { reason: 'version is not the content address of its files' });
    }
    const files = new Map<string, Uint8Array>();
    for (const f of manifest.files) {
      const bytes = await this.#o.download({ version, path: f.path });
      if (!bytes.ok) return bytes;
      files.set(f.path, bytes.value);
    }
    const checked = await verifyModelPackage(manifest, files);
    if (!checked.ok) return checked;
    return ok({ manifest, files });
  }

  #refusal(version: string, f: Failure): Refusal {
    return { version, code: f.code, message: f.message, at: (this.#o.now?.() ?? new Date()).toISOString() };
  }

  async #refuse(version: string, f: Failure): Promise<Refusal> {
    const refusal = this.#refusal(version, f);
    const p = await this.#o.vault.pointers();
    const staged = p.staged === version ? null : p.staged;
    if (p.staged === version) await this.#o.vault.delete(version);
    // Keep the last few refusals for the UI; the server gets each one through report().
    await this.#o.vault.setPointers({ ...p, staged, refused: [...p.refused, refusal].slice(-20) });
    this.#o.report?.({ kind: 'refused', version, code: f.code });
    return refusal;
  }
}
