/**
 * Shadow cost benchmark: how long the UI waits for the active model's
 * result when a shadow candidate runs beside it in the worker, versus no
 * shadow — the inference engine in-process on the cpu backend, with the real
 * bundled model as active and a nudged copy of it as the candidate. Two
 * patterns: one prediction at a time (a marketer clicking; the shadow
 * finishes between clicks) and back-to-back (the next request waits behind
 * the previous shadow run: the worst case).
 *
 *   npx tsx test/bench/shadow.ts        (N=400 to change)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { contentVersion, sha256Hex } from '../../model/contract/canonical.ts';
import type { Manifest } from '../../model/contract/manifest.ts';
import { compileDenseKernel } from '../../model/runtime/dense-simd-build.ts';
import { createInferenceEngine } from '../../web/src/lib/inference/inference-engine.ts';
import type { ModelBytes, WorkerRequest, WorkerResponse } from '../../web/src/lib/inference/protocol.ts';
import { emitResult, verdict } from './report.ts';

const N = Number(process.env.N ?? 400);
const dir = join(import.meta.dirname, '../../public/models/default');
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
// Every file the manifest lists (trees.bin too, where the model has boosted trees).
const activeFiles: Record<string, Uint8Array> = Object.fromEntries(
  manifest.files.map((f) => [f.path, new Uint8Array(readFileSync(join(dir, f.path)))]),
);
const weights = activeFiles['weights.bin'] as Uint8Array;
const active: ModelBytes = { manifest, files: activeFiles };

// The candidate: same network, output bias nudged (parity outputs are not needed to pass here: they are
// recomputed by running the model once on the same backend below).
const floats = new Float32Array(weights.slice().buffer);
for (let i = floats.length - 72; i < floats.length; i++) floats[i] = floats[i]! + 0.02;
const candWeights = new Uint8Array(floats.buffer);

function engine() {
  const e = createInferenceEngine({
    fetch: () => Promise.reject(new Error('no fetch in this bench')),
    loadBackend: async (name) => {
      if (name !== 'cpu') throw new Error('cpu only');
      await import('@tensorflow/tfjs-backend-cpu');
    },
    denseKernel: async (memory) => WebAssembly.compile(await compileDenseKernel(memory)),
    // The shadow bench compares models on one backend, not threads.
    kernelThreads: () => {
      throw new Error('no kernel threads in this bench');
    },
    now: () => performance.now(),
    userAgent: 'bench',
    benchmarkRows: 64,
  });
  let id = 0;
  const waiting = new Map<number, { onAnswer: (m: WorkerResponse) => void; onShadow?: (m: WorkerResponse) => void }>();
  const post = (m: WorkerResponse) => {
    const w = waiting.get(m.id);
    if (!w) return;
    if (m.type === 'shadow') w.onShadow?.(m);
    else if (m.type !== 'progress' && m.type !== 'benchmark') w.onAnswer(m);
  };
  const send = (body: Record<string, unknown>, onShadow?: (m: WorkerResponse) => void) =>
    new Promise<WorkerResponse>((resolve) => {
      const rid = ++id;
      waiting.set(rid, { onAnswer: resolve, onShadow });
      void e.handle({ ...body, id: rid } as WorkerRequest, post);
    });
  return { send };
}

const x = Float32Array.from(manifest.parity.inputs[0]!);

async function run(withShadow: boolean, backToBack: boolean): Promise<{ activeMs: number; shadowMs: number }> {
  const { send } = engine();
  const ready = await send({ type: 'init', modelBaseUrl: '/', wasmBaseUrl: '/', benchmark: null, model: active });
  if (ready.type !== 'ready') throw new Error(`init: ${JSON.stringify(ready)}`);
  if (withShadow) {
    // Parity outputs of the candidate on this backend, so it passes its own warm-up check.
    const files = await Promise.all(
      manifest.files.map(async (f) =>
        f.path === 'weights.bin'
          ? { path: f.path, sha256: await sha256Hex(candWeights), bytes: candWeights.byteLength }
          : f,
      ),
    );
    const candFiles = { ...activeFiles, 'weights.bin': candWeights };
    const candManifest = { ...manifest, version: await contentVersion(files), files };
    const probe = await send({
      type: 'init',
      modelBaseUrl: '/',
      wasmBaseUrl: '/',
      benchmark: null,
      model: { manifest: { ...candManifest, parity: { ...manifest.parity, tolerance: 1 } }, files: candFiles },
    });
    if (probe.type !== 'ready') throw new Error(`probe: ${JSON.stringify(probe)}`);
    const outs: number[][] = [];
    for (const row of manifest.parity.inputs) {
      const p = await send({ type: 'predict', inputs: Float32Array.from(row), rows: 1 });
      if (p.type !== 'prediction') throw new Error('probe predict');
      outs.push(Array.from(p.outputs));
    }
    const cand: ModelBytes = {
      manifest: { ...candManifest, parity: { ...manifest.parity, outputs: outs } },
      files: candFiles,
    };
    await send({ type: 'init', modelBaseUrl: '/', wasmBaseUrl: '/', benchmark: null, model: active });
    const s = await send({ type: 'shadow-load', model: cand });
    if (s.type !== 'shadow-ready') throw new Error(`shadow: ${JSON.stringify(s)}`);
  }
  for (let i = 0; i < 50; i++) await send({ type: 'predict', inputs: x, rows: 1 });
  const activeTimes: number[] = [];
  const shadowTimes: number[] = [];
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    let shadowDone: () => void = () => {};
    const shadowSeen = new Promise<void>((r) => {
      shadowDone = r;
    });
    const a = await send({ type: 'predict', inputs: x, rows: 1 }, () => {
      shadowTimes.push(performance.now() - t0);
      shadowDone();
    });
    activeTimes.push(performance.now() - t0);
    if (a.type !== 'prediction') throw new Error('predict');
    if (withShadow && !backToBack) await shadowSeen;
  }
  const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)] ?? Number.NaN;
  return { activeMs: median(activeTimes), shadowMs: median(shadowTimes) };
}

const none = await run(false, false);
const oneAtATime = await run(true, false);
const backToBack = await run(true, true);
const f = (v: number) => v.toFixed(3);
console.log(`\nShadow cost, cpu backend, real default model, median of ${N} single-row predictions (ms)\n`);
console.log('pattern                      | active result | shadow result | active vs no shadow');
console.log('-----------------------------|---------------|---------------|--------------------');
console.log(`no shadow                    | ${f(none.activeMs).padStart(13)} | ${'-'.padStart(13)} | 1.00×`);
console.log(
  `shadow, one at a time        | ${f(oneAtATime.activeMs).padStart(13)} | ${f(oneAtATime.shadowMs).padStart(13)} | ${(oneAtATime.activeMs / none.activeMs).toFixed(2)}×`,
);
console.log(
  `shadow, back-to-back (worst) | ${f(backToBack.activeMs).padStart(13)} | ${f(backToBack.shadowMs).padStart(13)} | ${(backToBack.activeMs / none.activeMs).toFixed(2)}×`,
);
const ratio = oneAtATime.activeMs / none.activeMs;
emitResult({
  bench: 'shadow',
  metric: 'active result latency with a shadow candidate (one prediction at a time)',
  ours: `${f(oneAtATime.activeMs)} ms`,
  peer: `no shadow ${f(none.activeMs)} ms`,
  ratio: `${ratio.toFixed(2)}×`,
  target: `≤ 1.25× and < 16 ms (one frame): ${verdict(ratio <= 1.25 && oneAtATime.activeMs < 16)}`,
});
