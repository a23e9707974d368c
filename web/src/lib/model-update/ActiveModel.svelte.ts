/**
 * The UI's view of the model on this device: opens the model store, starts
 * the worker on the right model (via DeviceRollout), checks the assignment
 * when online, and exposes the update state, the active model's card and its
 * on-device drift check as runes.
 */
import { apiClient } from '../../../../model/client/api-client.ts';
import type { ErrorCode, Result } from '../../../../model/contract/errors.ts';
import { type ModelCardContent, ModelCardSchema } from '../../../../model/contract/model-card.ts';
import { type DriftCheckResult, driftFromLogs } from '../drift/drift-check.ts';
import type { Inference, InferenceOptions } from '../inference/Inference.svelte.ts';
import type { DeviceStore } from '../storage/device-store.ts';
import { type Credentials, DeviceRollout, INITIAL_UPDATE_STATE, type UpdateState } from './device-rollout.ts';
import { ModelStore } from './model-store.ts';

/** The label's key baked into the build (VITE_LABEL_PUBLIC_KEY, a JWK as JSON): used when none was pinned. */
function buildTimeKey(): JsonWebKey | null {
  const raw = import.meta.env.VITE_LABEL_PUBLIC_KEY as string | undefined;
  if (!raw) return null;
  try {
    return JSON.parse(raw) as JsonWebKey;
  } catch {
    return null;
  }
}

/** How many recent logged predictions the drift check looks at. */
export const DRIFT_WINDOW = 500;

export class ActiveModel {
  state = $state.raw<UpdateState>(INITIAL_UPDATE_STATE);
  /** The active version's card.json when it came with one (bundled model, or fetched beside a version). */
  card = $state.raw<ModelCardContent | null>(null);
  drift = $state.raw<DriftCheckResult | null>(null);
  #rollout: DeviceRollout | null = null;
  #models: ModelStore | null = null;
  #deviceStore: DeviceStore | null = null;
  #driftTimer: ReturnType<typeof setTimeout> | undefined;
  #driftReported = new Set<string>();

  readonly #inference: Inference;
  readonly #bundledBaseUrl: string;
  constructor(inference: Inference, bundledBaseUrl: string) {
    this.#inference = inference;
    this.#bundledBaseUrl = bundledBaseUrl;
  }

  async #credentials(): Promise<Credentials> {
    const s = this.#deviceStore;
    const enrollment = s ? await s.getEnrollment() : null;
    const pinned = s ? await s.getPinnedLabelKey() : null;
    return {
      token: enrollment?.ok ? (enrollment.value?.token ?? null) : null,
      labelKey: (pinned?.ok ? pinned.value : undefined) ?? buildTimeKey(),
    };
  }

  /** Starts the worker on the active model (trying a staged update first). Call once at app start. */
  async start(deviceStore: DeviceStore | null, options: InferenceOptions): Promise<Result<void>> {
    this.#deviceStore = deviceStore;
    try {
      this.#models = await ModelStore.open();
    } catch (err) {
      console.warn('model store unavailable', err);
    }
    const inference = this.#inference;
    this.#rollout = new DeviceRollout({
      store: this.#models,
      inference: {
        load: (model) =>
          this.#inference.start({
            ...options,
            benchmark: this.#inference.benchmark ?? options.benchmark,
            ...(model ? { model } : {}),
          }),
        setShadow: (model) => this.#inference.setShadow(model),
        get modelVersion() {
          return inference.modelVersion;
        },
      },
      credentials: () => this.#credentials(),
      fetch: (input, init) => fetch(input, init),
      bundledBaseUrl: this.#bundledBaseUrl,
      onChange: (s) => {
        const changed = s.activeVersion !== this.state.activeVersion;
        this.state = s;
        if (changed) {
          void this.#loadCard();
          this.scheduleDrift(0);
        }
      },
    });
    return this.#rollout.start();
  }

  /** Asks the server for this device's assignment (when enrolled and online). */
  async check(): Promise<void> {
    if (typeof navigator !== 'undefined' && !navigator.onLine) return;
    await this.#rollout?.check();
  }

  /** The user accepted the update prompt (the caller has checked that no task is running). */
  accept(): Promise<Result<string | null>> | null {
    return this.#rollout?.accept() ?? null;
  }

  /** The running model produced invalid outputs: roll back and report. */
  async failedInUse(code: ErrorCode): Promise<void> {
    await this.#rollout?.failedInUse(code);
  }

  dismissNotice(): void {
    this.#rollout?.dismissNotice();
  }

  async #loadCard(): Promise<void> {
    const version = this.state.activeVersion;
    this.card = null;
    if (!version) return;
    const kept = ModelCardSchema.safeParse(await this.#models?.getCard(version).catch(() => undefined));
    if (kept.success && kept.data.model.version === version) {
      this.card = kept.data;
      return;
    }
    // The bundled model's card sits beside it; an update's card only if the label published one with it.
    if (!this.state.bundled && !this.state.activeManifest?.files.some((f) => f.path === 'card.json')) return;
    try {
      let res: Response;
      if (this.state.bundled) res = await fetch(`${this.#bundledBaseUrl}card.json`);
      else {
        const api = apiClient('', async () => (await this.#credentials()).token);
        const r = await api.open('modelFile', { params: { version, path: 'card.json' } });
        if (!r.ok) return;
        res = r.value;
      }
      if (!res.ok) return;
      // A card that is not the contract's, or describes another version, is not shown (the manifest still is).
      const parsed = ModelCardSchema.safeParse(await res.json());
      if (!parsed.success || parsed.data.model.version !== version) return;
      const card = parsed.data;
      this.card = card;
      await this.#models?.putCard(version, card).catch(() => undefined);
    } catch {
      // Offline and never fetched: the card view shows what the manifest says.
    }
  }

  /** Recomputes the on-device drift check soon (debounced: predictions arrive in bursts). */
  scheduleDrift(delayMs = 2_000): void {
    clearTimeout(this.#driftTimer);
    this.#driftTimer = setTimeout(() => void this.#checkDrift(), delayMs);
  }

  async #checkDrift(): Promise<void> {
    const reference = this.state.activeManifest?.reference;
    const store = this.#deviceStore;
    if (!reference || !store) return;
    const logs = await store.logs.list({ limit: DRIFT_WINDOW });
    if (!logs.ok) return;
    this.drift = driftFromLogs(
      logs.value.map((l) => l.log),
      reference,
    );
    const version = this.state.activeVersion;
    if (this.drift.warning && version && !this.#driftReported.has(version)) {
      this.#driftReported.add(version);
      const worst = this.drift.features[0];
      void this.#rollout?.report(
        'drift-warning',
        version,
        undefined,
        worst ? `${worst.name} PSI ${worst.excessPsi.toFixed(2)} on ${this.drift.distinct} distinct inputs` : undefined,
      );
    }
  }
}
