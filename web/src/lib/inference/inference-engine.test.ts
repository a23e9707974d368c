import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { Backend } from '../../../../model/contract/prediction-log.ts';
import { predictReference } from '../../../../model/runtime/dense-model.ts';
import { compileDenseKernel } from '../../../../model/runtime/dense-simd-build.ts';
import { MIN_SPLIT_ROWS } from '../../../../model/runtime/dense-simd-threads.ts';
import { spawnNodeKernelThread } from '../../../../model/runtime/testing/node-kernel-thread.ts';
import { fetchFiles, MEANS, makeTinyModel, STDS, type TinyModel } from '../../../../model/testing/tiny-model.ts';
import { createInferenceEngine, DEFAULT_BACKEND_ORDER, type EngineDeps } from './inference-engine.ts';
import {
  BATCH_CHUNK_ROWS,
  type BackendBenchmark,
  type BackendTiming,
  type WorkerRequest,
  type WorkerResponse,
  type Workload,
} from './protocol.ts';
import { WorkerChannel, type WorkerLike } from './worker-channel.ts';

/** The engine behind an in-process "worker": messages go through the real channel and protocol. */
function connect(deps: EngineDeps): { channel: WorkerChannel; seen: WorkerResponse[] } {
  const engine = createInferenceEngine(deps);
  const listeners: ((e: MessageEvent<WorkerResponse>) => void)[] = [];
  const seen: WorkerResponse[] = [];
  const worker: WorkerLike = {
    postMessage(msg: WorkerRequest) {
      // Structured clone, as a real worker boundary would do.
      void engine.handle(structuredClone(msg), (res) => {
        seen.push(res);
        for (const l of listeners) l({ data: structuredClone(res) } as MessageEvent<WorkerResponse>);
      });
    },
    addEventListener(type: string, l: never) {
      if (type === 'message') listeners.push(l);
    },
  };
  return { channel: new WorkerChannel(worker), seen };
}

let tiny: TinyModel;
let kernel: WebAssembly.Module;
let sharedKernel: WebAssembly.Module;
const cpuOnly = async (name: Backend) => {
  if (name !== 'cpu') throw new Error(`${name} not in Node`);
  await import('@tensorflow/tfjs-backend-cpu');
};
const deps = (over: Partial<EngineDeps> = {}): EngineDeps => ({
  fetch: fetchFiles(tiny.files),
  loadBackend: cpuOnly,
  denseKernel: async (memory) => (memory === 'own' ? kernel : sharedKernel),
  kernelThreads: () => ({ threads: 2, spawn: spawnNodeKernelThread }),
  now: () => performance.now(),
  userAgent: 'test',
  benchmarkRows: 256,
  ...over,
});
const init = (channel: WorkerChannel, over: Partial<Extract<WorkerRequest, { type: 'init' }>> = {}) =>
  channel.request({ type: 'init', modelBaseUrl: '/m/', wasmBaseUrl: '/w/', benchmark: null, ...over });
const row = (k: number) =>
  MEANS.map((m, i) => (i === 0 || i === 6 ? k % 2 : i === 4 ? k % 12 : m + STDS[i]! * ((k % 5) - 2) * 0.3));

/** A benchmark as the UI stores it, for this model, with made-up timings. */
const storedBenchmark = (timings: BackendTiming[], choice: Record<Workload, Backend>): BackendBenchmark => ({
  userAgent: 'test',
  modelVersion: tiny.manifest.version,
  measuredAt: new Date().toISOString(),
  tried: [...DEFAULT_BACKEND_ORDER],
  timings,
  ...choice,
});

/** Predicts `rows` rows and answers which backend ran them. */
const backendFor = (channel: WorkerChannel) => async (rows: number, workload?: Workload) => {
  const x = new Float32Array(rows * 13);
  for (let r = 0; r < rows; r++) x.set(row(r), r * 13);
  const a = await channel.request({ type: 'predict', inputs: x, rows, workload });
  return a.type === 'prediction' ? a.backend : a.type;
};

/** A worker started with a stored benchmark (made-up timings and the choice they gave): its answer, and a runner. */
async function startWithBenchmark(timings: BackendTiming[], choice: Record<Workload, Backend>) {
  const { channel } = connect(deps());
  const ready = await init(channel, { benchmark: storedBenchmark(timings, choice) });
  return { ready, run: backendFor(channel) };
}

beforeAll(async () => {
  tiny = await makeTinyModel();
  kernel = await WebAssembly.compile(await compileDenseKernel());
  sharedKernel = await WebAssembly.compile(await compileDenseKernel('shared'));
});

describe('inference worker protocol', () => {
  it('falls through unavailable backends, reports them, and answers ready', async () => {
    const { channel } = connect(deps());
    const ready = await init(channel);
    // Node has no WebGPU: our SIMD kernel is the first that works.
    expect(ready).toMatchObject({
      type: 'ready',
      modelVersion: tiny.manifest.version,
      backends: { single: 'simd', batch: 'simd' },
    });
    if (ready.type !== 'ready') return;
    expect(ready.failures.map((f) => f.backend)).toEqual(['webgpu']);
    expect(ready.available).toEqual(['simd']);

    // A browser without WebAssembly SIMD (and no tfjs wasm binaries here): the JS kernel serves.
    const noSimd = connect(deps({ denseKernel: () => Promise.reject(new Error('no WebAssembly SIMD here')) }));
    const plain = await init(noSimd.channel);
    expect(plain).toMatchObject({ type: 'ready', backends: { single: 'js', batch: 'js' }, available: ['js'] });
    if (plain.type !== 'ready') return;
    expect(plain.failures.map((f) => f.backend)).toEqual(['webgpu', 'simd', 'simd-threads', 'wasm']);
    expect(plain.failures.find((f) => f.backend === 'simd')?.reason).toMatch(/no WebAssembly SIMD here/);

    const tfjsOnly = connect(deps());
    const second = await init(tfjsOnly.channel, { backends: ['webgpu', 'wasm', 'cpu'] });
    expect(second).toMatchObject({ type: 'ready', backends: { single: 'cpu', batch: 'cpu' }, available: ['cpu'] });
  });

  it('predicts like the float64 reference, row by row, on our SIMD and JS kernels and on tfjs', async () => {
    for (const backend of ['simd', 'js', 'cpu'] as const) {
      const { channel } = connect(deps());
      await init(channel, { backends: [backend] });
      const rows = [row(1), row(2), row(3)];
      const a = await channel.request({ type: 'predict', inputs: Float32Array.from(rows.flat()), rows: 3 });
      expect(a.type).toBe('prediction');
      if (a.type !== 'prediction') return;
      expect(a.backend).toBe(backend);
      expect(a.outputs.length).toBe(3 * 72);
      rows.forEach((x, r) => {
        const ref = predictReference(tiny.weights, x);
        for (let j = 0; j < 72; j++) expect(Math.abs(a.outputs[r * 72 + j]! - ref[j]!)).toBeLessThan(1e-5);
      });
    }
  });

  it('routes each request by its size to the backend this device measured cheapest for it', async () => {
    // Made-up speeds: a fast start with a slow per-row cost (js), and the other way round (cpu).
    const { ready, run } = await startWithBenchmark(
      [
        { backend: 'js', singleMs: 0.1, batchMsPerRow: 0.05 },
        { backend: 'cpu', singleMs: 0.5, batchMsPerRow: 0.001 },
      ],
      { single: 'js', batch: 'cpu' },
    );
    expect(ready).toMatchObject({ type: 'ready', backends: { single: 'js', batch: 'cpu' } });
    // Costs: js 0.1 + 0.05 (n − 1), cpu 0.5 + 0.001 (n − 1): the crossover is between 9 and 10 rows.
    expect(await run(1)).toBe('js');
    expect(await run(9)).toBe('js');
    expect(await run(10)).toBe('cpu');
    expect(await run(1, 'batch')).toBe('cpu');
    expect(await run(500, 'single')).toBe('js');
  });

  it('sends calls too small to share out to simd, not to the threaded kernel that would run them alone', async () => {
    // Made-up speeds: the threaded kernel a hair faster for one row (noise: it runs one row as simd does).
    const { run } = await startWithBenchmark(
      [
        { backend: 'simd', singleMs: 0.02, batchMsPerRow: 0.004 },
        { backend: 'simd-threads', singleMs: 0.019, batchMsPerRow: 0.002 },
      ],
      { single: 'simd', batch: 'simd-threads' },
    );
    expect(await run(1)).toBe('simd');
    expect(await run(MIN_SPLIT_ROWS - 1)).toBe('simd');
    expect(await run(MIN_SPLIT_ROWS)).toBe('simd-threads');
  });

  it('reports progress for a large batch and returns every row', async () => {
    const { channel } = connect(deps());
    await init(channel);
    const rows = BATCH_CHUNK_ROWS * 2 + 10;
    const x = new Float32Array(rows * 13);
    for (let r = 0; r < rows; r++) x.set(row(r), r * 13);
    const progress: number[] = [];
    const a = await channel.request(
      { type: 'predict', inputs: x, rows },
      { onProgress: (done) => progress.push(done) },
    );
    expect(progress).toEqual([BATCH_CHUNK_ROWS, BATCH_CHUNK_ROWS * 2, rows]);
    expect(a.type === 'prediction' && a.outputs.length).toBe(rows * 72);
    if (a.type !== 'prediction') return;
    const last = predictReference(tiny.weights, row(rows - 1));
    expect(Math.abs(a.outputs[(rows - 1) * 72 + 5]! - last[5]!)).toBeLessThan(1e-5);
  });

  it('runs batches on our kernel across threads, like the reference, and says why where it has none', async () => {
    const { channel } = connect(deps());
    await init(channel, { backends: ['simd-threads'] });
    // Enough rows that the helper thread takes a share, and one more than a whole tile.
    const rows = 1001;
    const x = new Float32Array(rows * 13);
    for (let r = 0; r < rows; r++) x.set(row(r), r * 13);
    const a = await channel.request({ type: 'predict', inputs: x, rows });
    expect(a.type === 'prediction' && a.backend).toBe('simd-threads');
    if (a.type !== 'prediction') return;
    for (const r of [0, 500, 999, 1000]) {
      const ref = predictReference(tiny.weights, row(r));
      for (let j = 0; j < 72; j++) expect(Math.abs(a.outputs[r * 72 + j]! - ref[j]!)).toBeLessThan(1e-5);
    }
    await channel.request({ type: 'dispose' });

    // A page that is not cross-origin isolated: the reason is recorded and the single-threaded kernel serves.
    const isolatedNot = connect(
      deps({
        kernelThreads: () => {
          throw new Error('needs a cross-origin-isolated page (COOP/COEP headers) for shared memory');
        },
      }),
    );
    const ready = await init(isolatedNot.channel, { backends: ['simd-threads', 'simd'] });
    expect(ready).toMatchObject({ type: 'ready', backends: { single: 'simd', batch: 'simd' } });
    if (ready.type !== 'ready') return;
    expect(ready.failures).toEqual([
      { backend: 'simd-threads', reason: expect.stringMatching(/cross-origin-isolated/) },
    ]);
  });

  it('measures the backends once and sends the benchmark after ready', async () => {
    const { channel } = connect(deps());
    const got = new Promise<WorkerResponse>((resolve) => channel.onMessage(resolve));
    await init(channel);
    const b = await got;
    expect(b.type).toBe('benchmark');
    if (b.type !== 'benchmark') return;
    expect(b.benchmark.timings.map((t) => t.backend)).toEqual(['simd', 'simd-threads', 'js', 'cpu']);
    for (const t of b.benchmark.timings) {
      expect(t.singleMs).toBeGreaterThan(0);
      expect(t.batchMsPerRow).toBeGreaterThan(0);
    }
    expect(b.benchmark.modelVersion).toBe(tiny.manifest.version);
    // With that benchmark stored, the next start does not measure again.
    const second = connect(deps());
    let again = false;
    second.channel.onMessage(() => {
      again = true;
    });
    await init(second.channel, { benchmark: b.benchmark });
    await new Promise((r) => setTimeout(r, 50));
    expect(again).toBe(false);

    // One stored by an older app, which did not have our SIMD kernel to try, is measured again and covers it.
    const upgraded = connect(deps());
    const fresh = new Promise<WorkerResponse>((resolve) => upgraded.channel.onMessage(resolve));
    const older = { ...b.benchmark, tried: b.benchmark.tried.filter((n) => n !== 'simd') };
    await init(upgraded.channel, { benchmark: older });
    const remeasured = await fresh;
    expect(remeasured.type === 'benchmark' && remeasured.benchmark.timings.map((t) => t.backend)).toContain('simd');
  });

  it('explains a prediction: attributions sum to f(x) − f(baseline)', async () => {
    const { channel } = connect(deps());
    await init(channel);
    const x = row(3);
    const a = await channel.request({ type: 'explain', input: x, country: 10, baseline: MEANS, permutations: 16 });
    expect(a.type).toBe('attributions');
    if (a.type !== 'attributions') return;
    const sum = a.result.values.reduce((s, v) => s + v, 0);
    expect(Math.abs(sum - (a.result.prediction - a.result.baselinePrediction))).toBeLessThan(1e-5);
    expect(a.result.prediction).toBeCloseTo(predictReference(tiny.weights, x)[10]!, 4);
  });

  it('searches a counterfactual through the worker', async () => {
    const { channel } = connect(deps());
    await init(channel);
    const domains = MEANS.map((_, i) => ({
      min: i === 5 ? -60 : 0,
      max: i === 1 ? 3_600_000 : i === 5 ? 5 : i === 12 ? 250 : i === 4 ? 11 : 1,
      kind: 'number' as const,
      scale: STDS[i]!,
    }));
    const a = await channel.request({
      type: 'counterfactual',
      input: row(2),
      country: 3,
      domains,
      options: { target: 0.3 },
    });
    expect(a.type).toBe('counterfactual');
    if (a.type !== 'counterfactual') return;
    if (a.result.found) expect(a.result.probability).toBeGreaterThanOrEqual(0.3);
    else expect(['already-above', 'none-within-ranges']).toContain(a.result.reason);
  });

  it('does not leak tensors across predictions, explanations and counterfactuals', async () => {
    const { channel } = connect(deps());
    const measured = new Promise<void>((resolve) => channel.onMessage((m) => m.type === 'benchmark' && resolve()));
    await init(channel);
    // After the benchmark both the JS kernel and tfjs cpu are up; requests are routed between them by size.
    await measured;
    await channel.request({ type: 'predict', inputs: Float32Array.from(row(1)), rows: 1 });
    const before = await channel.request({ type: 'memory' });
    for (let i = 0; i < 20; i++) await channel.request({ type: 'predict', inputs: Float32Array.from(row(i)), rows: 1 });
    await channel.request({ type: 'explain', input: row(4), country: 1, baseline: MEANS, permutations: 4 });
    const after = await channel.request({ type: 'memory' });
    expect(before.type === 'memory' && after.type === 'memory').toBe(true);
    if (before.type !== 'memory' || after.type !== 'memory') return;
    expect(after.numTensors).toBe(before.numTensors);
    // Disposing the model releases its weights too.
    await channel.request({ type: 'dispose' });
    expect(tf.memory().numTensors).toBeLessThan(after.numTensors);
  });

  it('answers contract error codes for a bad model, no backend and bad requests', async () => {
    const badHash = connect(
      deps({ fetch: fetchFiles({ ...tiny.files, 'weights.bin': new Uint8Array(tiny.files['weights.bin']!.length) }) }),
    );
    expect(await init(badHash.channel)).toMatchObject({ type: 'error', code: 'hash-mismatch' });

    const badManifest = connect(
      deps({ fetch: fetchFiles({ ...tiny.files, 'manifest.json': new TextEncoder().encode('{"a":1}') }) }),
    );
    expect(await init(badManifest.channel)).toMatchObject({ type: 'error', code: 'manifest-invalid' });

    const missing = connect(deps({ fetch: fetchFiles({}) }));
    expect(await init(missing.channel)).toMatchObject({ type: 'error', code: 'model-load-failed' });

    const noBackend = connect(deps({ loadBackend: async () => Promise.reject(new Error('none here')) }));
    expect(await init(noBackend.channel, { backends: ['webgpu', 'wasm', 'cpu'] })).toMatchObject({
      type: 'error',
      code: 'backend-unavailable',
    });

    const early = connect(deps());
    expect(await early.channel.request({ type: 'predict', inputs: new Float32Array(13), rows: 1 })).toMatchObject({
      type: 'error',
      code: 'model-load-failed',
    });

    const { channel } = connect(deps());
    await init(channel);
    expect(await channel.request({ type: 'predict', inputs: new Float32Array(12), rows: 1 })).toMatchObject({
      type: 'error',
      code: 'invalid-value',
    });
    expect(await channel.request({ type: 'explain', input: row(1), country: 99, baseline: MEANS })).toMatchObject({
      type: 'error',
      code: 'unknown-country',
    });
    expect(
      await channel.request({ type: 'predict', inputs: new Float32Array(13), rows: 1, backend: 'webgpu' }),
    ).toMatchObject({
      type: 'error',
      code: 'backend-unavailable',
    });
  });

  it('falls through a backend whose outputs fail the parity check', async () => {
    // A backend that "loads" but computes wrongly: corrupt the parity outputs instead, so cpu fails its check.
    const manifest = {
      ...tiny.manifest,
      parity: {
        ...tiny.manifest.parity,
        outputs: tiny.manifest.parity.outputs.map((r) => r.map((v) => Math.min(1, v + 0.01))),
      },
    };
    const files = { ...tiny.files, 'manifest.json': new TextEncoder().encode(JSON.stringify(manifest)) };
    const { channel } = connect(deps({ fetch: fetchFiles(files) }));
    const a = await init(channel);
    // Every backend failed the parity check: the model itself is refused as such, not the device's backends.
    expect(a).toMatchObject({ type: 'error', code: 'parity-failed' });
    if (a.type === 'error') expect(JSON.stringify(a.details)).toContain('parity');
    // And nothing half-loaded answers afterwards.
    const p = await channel.request({ type: 'predict', inputs: Float32Array.from(row(1)), rows: 1 });
    expect(p).toMatchObject({ type: 'error', code: 'model-load-failed' });
  });
});

describe('model versions from the model store, and the shadow candidate', () => {
  const bytesOf = (m: TinyModel) => ({ manifest: m.manifest, files: m.files });

  it('starts on a stored version given as bytes, and a re-init switches models completely', async () => {
    const other = await makeTinyModel(11);
    const { channel } = connect(deps());
    expect(await init(channel)).toMatchObject({ type: 'ready', modelVersion: tiny.manifest.version });
    const again = await init(channel, { model: bytesOf(other) });
    expect(again).toMatchObject({ type: 'ready', modelVersion: other.manifest.version });
    const x = row(2);
    const a = await channel.request({ type: 'predict', inputs: Float32Array.from(x), rows: 1 });
    if (a.type !== 'prediction') throw new Error(a.type);
    const ref = predictReference(other.weights, x);
    for (let j = 0; j < 72; j++) expect(Math.abs(a.outputs[j]! - ref[j]!)).toBeLessThan(1e-5);
  });

  it('refuses stored bytes that do not match the manifest (one byte, truncated)', async () => {
    const { channel } = connect(deps());
    const flipped = tiny.files['weights.bin']!.slice();
    flipped[3] = flipped[3]! ^ 1;
    const bad = await init(channel, {
      model: { manifest: tiny.manifest, files: { ...tiny.files, 'weights.bin': flipped } },
    });
    expect(bad).toMatchObject({ type: 'error', code: 'hash-mismatch' });
    const short = tiny.files['weights.bin']!.slice(0, 10);
    const cut = await init(channel, {
      model: { manifest: tiny.manifest, files: { ...tiny.files, 'weights.bin': short } },
    });
    expect(cut).toMatchObject({ type: 'error', code: 'download-incomplete' });
  });

  it('answers with the active result first, then the shadow candidate on the same rows', async () => {
    const cand = await makeTinyModel(21);
    const { channel, seen } = connect(deps());
    await init(channel);
    expect(await channel.request({ type: 'shadow-load', model: bytesOf(cand) })).toMatchObject({
      type: 'shadow-ready',
      modelVersion: cand.manifest.version,
    });
    const rows = [row(1), row(4)];
    let shadow: unknown = 'pending';
    const a = await channel.request(
      { type: 'predict', inputs: Float32Array.from(rows.flat()), rows: 2 },
      { onShadow: (m) => (shadow = m) },
    );
    expect(a).toMatchObject({ type: 'prediction', shadowVersion: cand.manifest.version });
    await vi.waitFor(() => expect(shadow).not.toBe('pending'));
    const types = seen.map((m) => m.type);
    expect(types.lastIndexOf('shadow')).toBeGreaterThan(types.lastIndexOf('prediction'));
    const s = shadow as { outputs: Float32Array; modelVersion: string };
    expect(s.modelVersion).toBe(cand.manifest.version);
    rows.forEach((x, r) => {
      const ref = predictReference(cand.weights, x);
      for (let j = 0; j < 72; j++) expect(Math.abs(s.outputs[r * 72 + j]! - ref[j]!)).toBeLessThan(1e-5);
    });
    // Stopping the shadow: predictions say so, and no follow-up is awaited.
    expect(await channel.request({ type: 'shadow-load', model: null })).toMatchObject({ modelVersion: null });
    let none: unknown = 'pending';
    const b = await channel.request(
      { type: 'predict', inputs: Float32Array.from(row(1)), rows: 1 },
      { onShadow: (m) => (none = m) },
    );
    expect(b).toMatchObject({ shadowVersion: null });
    expect(none).toBeNull();
  });

  it('refuses a shadow candidate that fails its parity check', async () => {
    const cand = await makeTinyModel(21);
    const wrong = {
      ...cand.manifest,
      parity: { ...cand.manifest.parity, outputs: cand.manifest.parity.outputs.map((r) => r.map(() => 0.5)) },
    };
    const { channel } = connect(deps());
    await init(channel);
    const r = await channel.request({ type: 'shadow-load', model: { manifest: wrong, files: cand.files } });
    expect(r).toMatchObject({ type: 'error', code: 'parity-failed' });
    const p = await channel.request({ type: 'predict', inputs: Float32Array.from(row(1)), rows: 1 });
    expect(p).toMatchObject({ type: 'prediction', shadowVersion: null });
  });
});
