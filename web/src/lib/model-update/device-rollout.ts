/**
 * This device's part of the server's rollout, around the ModelInstaller: which model the worker
 * starts with (a staged update is tried first, a failing active one rolls
 * back), the assignment check (`GET /api/v1/assignment` with the device
 * token), staging a new version behind the user's yes, the shadow candidate,
 * and reporting refusals/rollbacks/activations to the server (queued in the
 * model store while offline). Plain TS with injected inference, storage and
 * network, so unit tests drive it without a browser; `ActiveModel.svelte.ts`
 * mirrors its state into runes for the UI.
 */
import { uuidv7 } from 'uuidv7';
import { type ApiClient, apiClient } from '../../../../model/client/api-client.ts';
import type { Assignment, DeviceEvent } from '../../../../model/contract/api.ts';
import { type ErrorCode, fail, ok, type Result } from '../../../../model/contract/errors.ts';
import { type Manifest, ManifestSchema } from '../../../../model/contract/manifest.ts';
import type { ModelBytes } from '../inference/protocol.ts';
import { ModelInstaller, type Refusal, type StoredModel } from './model-installer.ts';
import type { ModelStore } from './model-store.ts';

/** What the rollout needs from the inference worker's handle. */
export interface InferenceControl {
  /** Starts (or restarts) the worker on `model`, or on the bundled model when undefined. */
  load(model: ModelBytes | undefined): Promise<Result<void>>;
  setShadow(model: ModelBytes | null): Promise<Result<string | null>>;
  readonly modelVersion: string | null;
}

export interface Credentials {
  readonly token: string | null;
  readonly labelKey: JsonWebKey | null;
}

export interface UpdateState {
  /** Version the worker runs now (null until it is ready). */
  readonly activeVersion: string | null;
  readonly activeManifest: Manifest | null;
  /** True while the model bundled with the app runs (no update activated, or rolled back to it). */
  readonly bundled: boolean;
  /** Downloaded, verified, waiting for the user's yes or the next start (`bundled`: back to the app's own model). */
  readonly staged: { version: string; manifest: Manifest; bundled?: boolean } | null;
  /** Recent refusals and rollbacks, newest last. */
  readonly refusals: readonly Refusal[];
  /** The refusal to show now (cleared when the user dismisses it). */
  readonly notice: Refusal | null;
  readonly cohort: Assignment['cohort'] | null;
  readonly shadow: string | null;
  readonly checkedAt: string | null;
  /** Why the last check could not ask the server (offline, not enrolled), for the status line. */
  readonly checkProblem: string | null;
}

export const INITIAL_UPDATE_STATE: UpdateState = {
  activeVersion: null,
  activeManifest: null,
  bundled: true,
  staged: null,
  refusals: [],
  notice: null,
  cohort: null,
  shadow: null,
  checkedAt: null,
  checkProblem: null,
};

export interface DeviceRolloutOptions {
  readonly store: ModelStore | null;
  readonly inference: InferenceControl;
  readonly credentials: () => Promise<Credentials>;
  readonly fetch: typeof fetch;
  /** "" in the app (same origin); the server's URL in tests. */
  readonly apiBase?: string;
  /** Bundled model folder, e.g. "/models/default/". */
  readonly bundledBaseUrl: string;
  readonly onChange: (s: UpdateState) => void;
  readonly now?: () => Date;
}

const PENDING_EVENTS = 'pending-events';

export function toModelBytes(m: StoredModel): ModelBytes {
  return { manifest: m.manifest, files: Object.fromEntries(m.files) };
}

export class DeviceRollout {
  #state: UpdateState = INITIAL_UPDATE_STATE;
  readonly #o: DeviceRolloutOptions;
  readonly #installer: ModelInstaller | null;
  readonly #api: ApiClient;
  #checking: Promise<void> | null = null;
  #reporting: Promise<void> = Promise.resolve();

  constructor(options: DeviceRolloutOptions) {
    this.#o = options;
    this.#api = apiClient(options.apiBase ?? '', async () => (await options.credentials()).token, {
      fetch: options.fetch,
    });
    const store = options.store;
    this.#installer = store
      ? new ModelInstaller({
          vault: store,
          download: (target) => this.#download(target),
          publicKey: async () => (await options.credentials()).labelKey,
          tryLoad: async (m) => options.inference.load(toModelBytes(m)),
          report: (e) => {
            const kind =
              e.kind === 'refused'
                ? 'model-refused'
                : e.kind === 'rolled-back'
                  ? 'model-rolled-back'
                  : 'model-activated';
            void this.report(kind, e.version, e.code);
          },
          now: options.now,
        })
      : null;
  }

  get state(): UpdateState {
    return this.#state;
  }

  #set(patch: Partial<UpdateState>): void {
    this.#state = { ...this.#state, ...patch };
    this.#o.onChange(this.#state);
  }

  async #refreshPointers(): Promise<void> {
    const store = this.#o.store;
    if (!store) return;
    const p = await store.pointers();
    const stagedModel = p.staged ? await store.get(p.staged) : undefined;
    this.#set({
      refusals: p.refused,
      staged: stagedModel ? { version: stagedModel.manifest.version, manifest: stagedModel.manifest } : null,
    });
  }

  async #bundledManifest(): Promise<Manifest | null> {
    try {
      const res = await this.#o.fetch(`${this.#o.bundledBaseUrl}manifest.json`);
      const parsed = res.ok ? ManifestSchema.safeParse(await res.json()) : null;
      return parsed?.success ? parsed.data : null;
    } catch {
      return null;
    }
  }

  async #runBundled(): Promise<Result<void>> {
    const r = await this.#o.inference.load(undefined);
    this.#set({
      bundled: true,
      activeVersion: this.#o.inference.modelVersion,
      activeManifest: await this.#bundledManifest(),
    });
    return r;
  }

  /**
   * At start: a staged update is activated now if it loads and passes warm-up (else refused); a stored
   * active version that no longer loads rolls back (to the previous one, or the bundled model).
   */
  async start(): Promise<Result<void>> {
    const store = this.#o.store;
    const installer = this.#installer;
    if (!store || !installer) return this.#runBundled();
    try {
      const before = await store.pointers();
      if (before.staged) {
        const r = await installer.activateStaged();
        if (r.refusal) this.#set({ notice: r.refusal });
        else if (r.active) {
          const m = await store.get(r.active);
          this.#set({ bundled: false, activeVersion: r.active, activeManifest: m?.manifest ?? null });
          await this.#refreshPointers();
          return ok(undefined);
        }
      }
      for (let attempt = 0; attempt < 3; attempt++) {
        const p = await store.pointers();
        const active = p.active ? await store.get(p.active) : undefined;
        if (!active) break;
        const loaded = await this.#o.inference.load(toModelBytes(active));
        if (loaded.ok) {
          this.#set({ bundled: false, activeVersion: active.manifest.version, activeManifest: active.manifest });
          await this.#refreshPointers();
          return loaded;
        }
        await installer.rollBack(loaded.code);
        const now = await store.pointers();
        this.#set({ notice: now.refused.at(-1) ?? null });
      }
      await this.#refreshPointers();
    } catch (err) {
      // The model store failing must never stop the app: the bundled model always works offline.
      console.warn('model store unavailable, running the bundled model', err);
    }
    return this.#runBundled();
  }

  async #enrolled(): Promise<boolean> {
    return (await this.#o.credentials()).token !== null;
  }

  async #download(target: { version: string; path?: string }): Promise<Result<Uint8Array>> {
    if (!(await this.#enrolled())) return fail('unauthorized', { reason: 'not enrolled' });
    const r =
      target.path === undefined
        ? await this.#api.open('modelManifest', { params: { version: target.version }, cache: 'no-store' })
        : await this.#api.open('modelFile', {
            params: { version: target.version, path: target.path },
            cache: 'no-store',
          });
    const url =
      target.path === undefined
        ? this.#api.url('modelManifest', { version: target.version })
        : this.#api.url('modelFile', { version: target.version, path: target.path });
    if (!r.ok) {
      if (r.status === 0) return fail('network-error', { url, reason: String(r.details) });
      if (r.status === 401) return fail('unauthorized', { url });
      if (r.status === 404) return fail('unknown-model-version', { url });
      return fail(r.status === 429 ? 'rate-limited' : 'network-error', { url, status: r.status });
    }
    try {
      return ok(new Uint8Array(await r.value.arrayBuffer()));
    } catch (err) {
      // The connection broke while the body was arriving.
      return fail('download-incomplete', { url, reason: String(err) });
    }
  }

  /** Asks the server for this device's assignment and acts on it. Safe to call often; calls overlap into one. */
  check(): Promise<void> {
    this.#checking ??= this.#check().finally(() => {
      this.#checking = null;
    });
    return this.#checking;
  }

  async #check(): Promise<void> {
    const installer = this.#installer;
    if (!installer) return this.#set({ checkProblem: 'model storage is unavailable on this device' });
    if (!(await this.#enrolled())) return this.#set({ checkProblem: 'not enrolled' });
    void this.flushEvents();
    const res = await this.#api.call('assignment', { cache: 'no-store' });
    if (!res.ok) {
      return this.#set({
        checkProblem:
          res.status === 0
            ? 'the server could not be reached'
            : res.status >= 200 && res.status < 300
              ? `the server's answer was not an assignment (${res.code})`
              : `the server answered ${res.status}`,
      });
    }
    const assignment: Assignment = res.value;
    this.#set({ cohort: assignment.cohort, checkedAt: assignment.checkedAt, checkProblem: null });
    const bundled = await this.#bundledManifest();
    if (assignment.active !== this.#state.activeVersion && bundled && assignment.active === bundled.version) {
      // Back to the model that came with the app (a rollback on the server): nothing to download or verify.
      await this.#dropStaged();
      await this.#syncShadow(assignment.shadow);
      await this.#refreshPointers();
      this.#set({ staged: { version: bundled.version, manifest: bundled, bundled: true } });
      return;
    }
    if (assignment.active !== this.#state.activeVersion) {
      const r = await installer.stage(assignment.active);
      if (r.status === 'refused') this.#set({ notice: r.refusal });
      if (r.status === 'unavailable') this.#set({ checkProblem: `update not downloaded yet (${r.code})` });
    } else {
      // Assigned back to what runs (e.g. a rollback on the server): a staged update is no longer wanted.
      await this.#dropStaged();
    }
    await this.#syncShadow(assignment.shadow);
    await this.#refreshPointers();
  }

  /** A former shadow candidate's bytes are kept only if it became active, previous or staged. */
  async #forgetShadow(version: string | null): Promise<void> {
    const store = this.#o.store;
    if (!store || !version) return;
    const p = await store.pointers();
    if (version !== p.active && version !== p.previous && version !== p.staged) await store.delete(version);
  }

  async #dropStaged(): Promise<void> {
    const store = this.#o.store;
    if (!store) return;
    const p = await store.pointers();
    if (!p.staged) return;
    if (p.staged !== p.active && p.staged !== p.previous) await store.delete(p.staged);
    await store.setPointers({ ...p, staged: null });
  }

  async #syncShadow(version: string | null): Promise<void> {
    const installer = this.#installer;
    if (!installer) return;
    const want = version && version !== this.#state.activeVersion ? version : null;
    if (want === this.#state.shadow) return;
    await this.#forgetShadow(this.#state.shadow);
    if (!want) {
      await this.#o.inference.setShadow(null);
      this.#set({ shadow: null });
      return;
    }
    const fetched = await installer.fetchCandidate(want);
    if (!fetched.ok) {
      if (fetched.refusal) this.#set({ notice: fetched.refusal });
      return;
    }
    const loaded = await this.#o.inference.setShadow(toModelBytes(fetched.value));
    if (!loaded.ok) {
      const refusal = await installer.refuse(want, loaded);
      void this.report('shadow-refused', want, loaded.code);
      this.#set({ notice: refusal, shadow: null });
      return;
    }
    this.#set({ shadow: want });
  }

  /** The user said yes: activate the staged version now (the caller makes sure no task is running). */
  async accept(): Promise<Result<string | null>> {
    const installer = this.#installer;
    const store = this.#o.store;
    if (!installer || !store) return fail('storage-unavailable');
    if (this.#state.staged?.bundled) {
      const p = await store.pointers();
      const loaded = await this.#runBundled();
      if (!loaded.ok) return loaded;
      await store.setPointers({ ...p, active: null, previous: p.active, staged: null });
      if (p.active) void this.report('model-activated', this.#state.staged.version);
      this.#set({ staged: null });
      return ok(this.#state.activeVersion);
    }
    const r = await installer.activateStaged();
    if (r.refusal) {
      // The worker tried the refused version: put the one that was running back.
      const p = await store.pointers();
      const back = p.active ? await store.get(p.active) : undefined;
      if (back) await this.#o.inference.load(toModelBytes(back));
      else await this.#o.inference.load(undefined);
      this.#set({ notice: r.refusal });
      await this.#refreshPointers();
      return fail(r.refusal.code);
    }
    const m = r.active ? await store.get(r.active) : undefined;
    this.#set({ bundled: false, activeVersion: r.active, activeManifest: m?.manifest ?? null });
    if (this.#state.shadow === r.active) {
      await this.#o.inference.setShadow(null);
      this.#set({ shadow: null });
    }
    await this.#refreshPointers();
    return ok(r.active);
  }

  /** The running version produced NaN or failed in use: go back to the previous one and report it. */
  async failedInUse(code: ErrorCode): Promise<void> {
    const installer = this.#installer;
    const store = this.#o.store;
    if (!installer || !store || this.#state.bundled) return;
    await installer.rollBack(code);
    const p = await store.pointers();
    this.#set({ notice: p.refused.at(-1) ?? null });
    const back = p.active ? await store.get(p.active) : undefined;
    if (back) {
      const r = await this.#o.inference.load(toModelBytes(back));
      if (r.ok) {
        this.#set({ bundled: false, activeVersion: back.manifest.version, activeManifest: back.manifest });
        return;
      }
    }
    await this.#runBundled();
  }

  dismissNotice(): void {
    this.#set({ notice: null });
  }

  /** Queues an event for the server (kept in the model store while offline) and tries to send the queue. */
  async report(kind: DeviceEvent['kind'], version: string, code?: string, message?: string): Promise<void> {
    const event: DeviceEvent = {
      id: uuidv7(),
      kind,
      version,
      ...(code ? { code } : {}),
      ...(message ? { message: message.slice(0, 500) } : {}),
      at: (this.#o.now?.() ?? new Date()).toISOString(),
    };
    const store = this.#o.store;
    this.#reporting = this.#reporting.then(async () => {
      if (!store) return;
      const pending = (await store.getMeta<DeviceEvent[]>(PENDING_EVENTS)) ?? [];
      await store.putMeta(PENDING_EVENTS, [...pending, event].slice(-100));
    });
    await this.#reporting;
    await this.flushEvents();
  }

  /** Sends queued events; they stay queued when offline or refused by the network. */
  flushEvents(): Promise<void> {
    const store = this.#o.store;
    this.#reporting = this.#reporting.then(async () => {
      if (!store) return;
      const pending = (await store.getMeta<DeviceEvent[]>(PENDING_EVENTS)) ?? [];
      if (pending.length === 0) return;
      if (!(await this.#enrolled())) return;
      try {
        const res = await this.#api.exchange('reportDeviceEvents', { json: { events: pending } });
        if ('networkError' in res) return;
        const okStatus = res.status >= 200 && res.status < 300;
        // 4xx other than auth means the server will never take these: drop them rather than retry forever.
        if (okStatus || (res.status >= 400 && res.status < 500 && res.status !== 401 && res.status !== 429)) {
          const sent = new Set(pending.map((e) => e.id));
          const now = (await store.getMeta<DeviceEvent[]>(PENDING_EVENTS)) ?? [];
          await store.putMeta(
            PENDING_EVENTS,
            now.filter((e) => !sent.has(e.id)),
          );
        }
      } catch {
        // Offline: sent at the next check.
      }
    });
    return this.#reporting;
  }
}
