/**
 * The app's shared state and services, created once at start: device
 * storage, the inference worker, the catalogue (IndexedDB first, refreshed
 * from the server when online), the prediction recorder, storage usage and
 * the online flag. Components read its fields; its methods do the work.
 */
import { uuidv7 } from 'uuidv7';
import type { Catalogue } from '../../../model/contract/api.ts';
import { describeError, type ErrorCode } from '../../../model/contract/errors.ts';
import type { Features } from '../../../model/contract/features.ts';
import { FEATURE_NAMES, toVector } from '../../../model/contract/features.ts';
import { type Manifest, ManifestSchema } from '../../../model/contract/manifest.ts';
import { type Backend, BackendSchema, type PredictionSource } from '../../../model/contract/prediction-log.ts';
import { buildSongIndex, type SongIndex } from './catalogue/song-index.ts';
import { Inference, type Prediction } from './inference/Inference.svelte.ts';
import { BackendBenchmarkSchema } from './inference/protocol.ts';
import { attachShadow } from './inference/shadow-log.ts';
import { ActiveModel } from './model-update/ActiveModel.svelte.ts';
import { buildPercentiles, type CataloguePercentiles } from './relative/catalogue-percentiles.ts';
import { DeviceStore, type StoredLog } from './storage/device-store.ts';
import { buildLog, type LogInput, PredictionRecorder } from './storage/prediction-recorder.ts';
import { DeviceSync, syncOptionsFromQuery } from './sync/DeviceSync.svelte.ts';
import { afterPaint } from './ui/after-paint.ts';

export const MODEL_BASE_URL = '/models/default/';
const BENCHMARK_KEY = 'backend-benchmark';

export interface Notice {
  readonly code: ErrorCode | string;
  readonly message: string;
}

export interface PredictionResult extends Prediction {
  readonly features: Features;
  readonly source: PredictionSource;
  readonly songId?: string;
  readonly label?: string;
  readonly logId?: string;
}

export class App {
  readonly inference: Inference;
  /** Enrollment, uploads of logs and outcomes, retention. */
  readonly sync: DeviceSync;
  /** Signed model updates, shadow candidate, on-device drift check, model card. */
  readonly models: ActiveModel;
  store: DeviceStore | null = null;
  deviceId = $state<string>('');
  storageError = $state<Notice | null>(null);
  catalogue = $state.raw<SongIndex | null>(null);
  catalogueVersion = $state<string | null>(null);
  /** 'needs-enrollment': the server refused the catalogue to an unenrolled device (it is a device-role resource). */
  catalogueStatus = $state<'loading' | 'ready' | 'missing' | 'needs-enrollment'>('loading');
  manifest = $state.raw<Manifest | null>(null);
  online = $state(typeof navigator === 'undefined' ? true : navigator.onLine);
  logCounts = $state<{ total: number; unsynced: number }>({ total: 0, unsynced: 0 });
  unsaved = $state(0);
  storage = $state<{ usage: number; quota: number; persisted: boolean } | null>(null);
  busy = $state(false);
  /** A past prediction reopened from the history: the Predict view shows it (nothing is predicted or logged). */
  reopened = $state.raw<StoredLog | null>(null);
  /** Set when this device has just enrolled: the app confirms it (and says what changes) until dismissed. */
  enrolledNotice = $state(false);
  /** The catalogue scored by the active model, sorted per country: a song's percentile there (null until done). */
  percentiles = $state.raw<CataloguePercentiles | null>(null);
  #percentilesRunning = '';
  #recorder = new PredictionRecorder(null);
  #storageCheckedAt = 0;

  constructor() {
    const worker = new Worker(new URL('./inference/inference.worker.ts', import.meta.url), { type: 'module' });
    this.inference = new Inference(worker);
    this.models = new ActiveModel(this.inference, MODEL_BASE_URL);
    this.sync = new DeviceSync({
      ...syncOptionsFromQuery(location.search),
      onEnrolled: () => {
        this.enrolledNotice = true;
        void this.refreshCatalogue();
        void this.models.check();
      },
    });
    addEventListener('online', () => {
      this.online = true;
      void this.refreshCatalogue();
      void this.models.check();
    });
    addEventListener('offline', () => {
      this.online = false;
    });
    // Once per model and catalogue: score the catalogue for the per-country percentiles.
    $effect.root(() => {
      $effect(() => {
        const version = this.inference.status === 'ready' ? this.inference.modelVersion : null;
        const catalogueVersion = this.catalogueVersion;
        if (version && catalogueVersion && this.catalogue) this.#schedulePercentiles(`${version}|${catalogueVersion}`);
      });
    });
  }

  /** The manifest of the model in use: its country facts and feature bounds put each answer in context. */
  readonly activeManifest: Manifest | null = $derived.by(() => this.models.state.activeManifest ?? this.manifest);

  reopen(log: StoredLog): void {
    this.reopened = log;
  }

  #schedulePercentiles(key: string): void {
    if (this.percentiles?.key === key || this.#percentilesRunning === key) return;
    this.#percentilesRunning = key;
    // After start-up settles (the first prediction comes first), and never while a batch holds the model.
    const run = async () => {
      if (this.#percentilesRunning !== key) return;
      if (this.busy) {
        setTimeout(run, 2_000);
        return;
      }
      const songs = this.catalogue?.all() ?? [];
      const n = FEATURE_NAMES.length;
      const x = new Float32Array(songs.length * n);
      songs.forEach((s, i) => {
        x.set(toVector(s.features), i * n);
      });
      const p = await this.inference.score(x, songs.length);
      if (!p.ok || this.#percentilesRunning !== key) {
        this.#percentilesRunning = '';
        return;
      }
      const built = await buildPercentiles(key, p.value.outputs, songs.length, p.value.outputs.length / songs.length);
      if (this.#percentilesRunning === key) this.percentiles = built;
      this.#percentilesRunning = '';
    };
    setTimeout(run, 1_500);
  }

  async start(): Promise<void> {
    const opened = await DeviceStore.open();
    if (opened.ok) {
      this.store = opened.value;
      this.#recorder = new PredictionRecorder(this.store);
      const id = await this.store.deviceId();
      if (id.ok) this.deviceId = id.value;
    } else {
      this.storageError = { code: opened.code, message: opened.message };
    }
    // Without storage the device id lives for this session only; logs are kept in memory and flagged.
    if (!this.deviceId) this.deviceId = `dev_session_${Math.random().toString(36).slice(2, 12)}`;
    // Reads the device token first, so the catalogue request below already carries it.
    if (this.store) await this.sync.start(this.store, this.deviceId);
    const stored = this.store ? await this.store.getSetting<unknown>(BENCHMARK_KEY) : null;
    const benchmark = BackendBenchmarkSchema.safeParse(stored?.ok ? stored.value : null);
    const backends = new URLSearchParams(location.search).get('backends');
    await Promise.all([
      this.models.start(this.store, {
        modelBaseUrl: MODEL_BASE_URL,
        wasmBaseUrl: '/wasm/',
        benchmark: benchmark.success ? benchmark.data : null,
        // A test or support hook (?backends=wasm,cpu); names that are not backends are ignored.
        backends: backends
          ? backends.split(',').filter((b): b is Backend => BackendSchema.safeParse(b).success)
          : undefined,
        onBenchmark: (b) => void this.store?.putSetting(BENCHMARK_KEY, b),
      }),
      this.loadManifest(),
      this.loadCatalogue(),
      this.refreshCounts(),
    ]);
    void this.refreshStorage(true);
    void this.models.check();
    // Assignments change on the server (canary, promote, rollback): look again now and then while open.
    setInterval(() => void this.models.check(), 10 * 60_000);
  }

  async loadManifest(): Promise<void> {
    try {
      const res = await fetch(`${MODEL_BASE_URL}manifest.json`);
      const parsed = res.ok ? ManifestSchema.safeParse(await res.json()) : null;
      if (parsed?.success) this.manifest = parsed.data;
    } catch {
      // The worker reports model problems; the manifest here only feeds the explain baseline.
    }
  }

  #setCatalogue(c: Catalogue): void {
    const index = buildSongIndex(c.songs);
    this.catalogue = index;
    this.catalogueVersion = c.version;
    this.catalogueStatus = 'ready';
    // The search index takes a moment to build (test/bench/README.md): when the page is idle, not while it starts.
    const idle = (globalThis as { requestIdleCallback?: (cb: () => void, o?: { timeout: number }) => void })
      .requestIdleCallback;
    if (idle) idle(() => index.warm(), { timeout: 5_000 });
    else setTimeout(() => index.warm(), 2_000);
  }

  async loadCatalogue(): Promise<void> {
    const local = this.store ? await this.store.getCatalogue() : null;
    if (local?.ok && local.value) this.#setCatalogue(local.value);
    const refreshed = await this.refreshCatalogue();
    if (!this.catalogue) this.catalogueStatus = refreshed === 'unauthorized' ? 'needs-enrollment' : 'missing';
  }

  /** Fetches the server's catalogue when online and stores it when its version changed. */
  async refreshCatalogue(): Promise<'unauthorized' | undefined> {
    if (!navigator.onLine) return;
    try {
      const r = await this.sync.api.call('catalogue', { headers: { accept: 'application/json' } });
      if (!r.ok) return r.status === 401 ? 'unauthorized' : undefined;
      if (r.value.version === this.catalogueVersion) return;
      this.#setCatalogue(r.value);
      const put = await this.store?.putCatalogue(r.value);
      if (put && !put.ok) this.storageError = { code: put.code, message: put.message };
    } catch {
      // Offline or server down: the stored catalogue (if any) stays in use.
    }
  }

  async refreshCounts(): Promise<void> {
    const c = await this.store?.logs.count();
    if (c?.ok) this.logCounts = c.value;
    this.unsaved = this.#recorder.unsaved;
    // Storage usage changes slowly; asking for it after every prediction would cost more than it tells.
    if (Date.now() - this.#storageCheckedAt > 5_000) void this.refreshStorage();
  }

  async refreshStorage(askPersist = false): Promise<void> {
    this.#storageCheckedAt = Date.now();
    const s = navigator.storage;
    if (!s?.estimate) return;
    let persisted = (await s.persisted?.()) ?? false;
    // Ask once per start: browsers grant it silently to installed or engaged apps, or prompt (Firefox).
    if (askPersist && !persisted && s.persist) persisted = await s.persist().catch(() => false);
    const e = await s.estimate();
    this.storage = { usage: e.usage ?? 0, quota: e.quota ?? 0, persisted };
  }

  /** Mean of each feature in the training reference: the explain baseline (worked out once per model). */
  readonly baseline: number[] | null = $derived.by(() => {
    const ref = (this.models.state.activeManifest ?? this.manifest)?.reference?.features;
    if (!ref) return null;
    return FEATURE_NAMES.map((n) => ref.find((f) => f.name === n)?.mean ?? 0);
  });

  /**
   * Runs the model for songs and logs every prediction. The outputs come back as soon as the model has them;
   * `saved` settles when the logs are in IndexedDB (a failure there is shown, and the logs kept in memory).
   */
  async predictAndLog(
    items: readonly Omit<LogInput, 'outputs'>[],
    options: {
      onProgress?: (done: number, total: number) => void;
      /** Logs written to IndexedDB so far (a batch is saved a few thousand at a time). */
      onSaveProgress?: (saved: number, total: number) => void;
    } = {},
  ): Promise<
    { ok: true; prediction: Prediction; logIds: string[]; saved: Promise<boolean> } | { ok: false; notice: Notice }
  > {
    const x = new Float32Array(items.length * FEATURE_NAMES.length);
    items.forEach((it, i) => {
      x.set(toVector(it.inputs), i * FEATURE_NAMES.length);
    });
    // The worker routes by size: the backend this device measured cheapest for this many rows.
    const p = await this.inference.predict(x, items.length, { onProgress: options.onProgress });
    if (!p.ok) {
      // An updated model that gives NaN in use is rolled back (and reported); the bundled one is not.
      if (p.code === 'model-output-invalid') void this.models.failedInUse(p.code);
      return { ok: false, notice: { code: p.code, message: p.message } };
    }
    const width = p.value.outputs.length / items.length;
    const now = new Date();
    const ctx = {
      deviceId: this.deviceId,
      modelVersion: this.inference.modelVersion ?? 'unknown',
      backend: p.value.backend,
      latencyMs: p.value.latencyMs / items.length,
    };
    // Only the ids are made now (the result shows its log id); building, validating and writing the logs start
    // once the result has been painted, so the probabilities are on screen first. The write is still awaited
    // (`saved`) and a failure is shown and retried.
    const ids = items.map(() => uuidv7());
    const outputs = p.value.outputs;
    const saved = new Promise<void>((resolve) => afterPaint(resolve))
      .then(async () => {
        const logs = items.map((it, i) =>
          buildLog(ctx, { ...it, outputs: outputs.subarray(i * width, (i + 1) * width) }, now, ids[i]),
        );
        return this.#recorder.record(
          await attachShadow(logs, p.value.shadow),
          items.map((it) => it.label),
          options.onSaveProgress,
        );
      })
      .then(async (r) => {
        this.storageError = r.ok
          ? null
          : { code: r.code, message: `${describeError(r.code)} Predictions are kept in memory until it works again.` };
        await this.refreshCounts();
        if (r.ok) this.sync.schedule();
        if (r.ok) this.models.scheduleDrift();
        return r.ok;
      });
    return { ok: true, prediction: p.value, logIds: ids, saved };
  }
}
