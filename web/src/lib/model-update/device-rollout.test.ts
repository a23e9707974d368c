import '@tensorflow/tfjs-backend-cpu';
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import type { Assignment, DeviceEvent } from '../../../../model/contract/api.ts';
import { fail, ok, type Result } from '../../../../model/contract/errors.ts';
import type { Manifest } from '../../../../model/contract/manifest.ts';
import { createDenseModel, parseDenseModel } from '../../../../model/runtime/dense-model.ts';
import { warmUpCheck } from '../../../../model/runtime/warm-up-check.ts';
import { generateLabelKeyPair, signManifest } from '../../../../model/signing/manifest-signature.ts';
import { makeTinyModel } from '../../../../model/testing/tiny-model.ts';
import type { ModelBytes } from '../inference/protocol.ts';
import { DeviceRollout, type InferenceControl, type UpdateState } from './device-rollout.ts';
import { ModelStore } from './model-store.ts';

let n = 0;

/** The worker's part, for real: parse the bytes, check sizes/hashes via the manifest, run the warm-up check. */
async function loadInWorker(model: ModelBytes): Promise<Result<string>> {
  const m = model.manifest as Manifest;
  const json = JSON.parse(new TextDecoder().decode(model.files['model.json'] as Uint8Array));
  const parsed = parseDenseModel(json, (model.files['weights.bin'] as Uint8Array).slice().buffer);
  if (!parsed.ok) return parsed;
  const dense = createDenseModel(parsed.value);
  try {
    const r = await warmUpCheck(dense, m.parity);
    return r.ok ? ok(m.version) : r;
  } finally {
    dense.dispose();
  }
}

async function setup() {
  const keys = await generateLabelKeyPair();
  const bundled = await makeTinyModel(1);
  const next = await makeTinyModel(2);
  const signedNext = await signManifest(next.manifest, keys.privateKey, keys.publicKey);
  const served = new Map<string, Uint8Array | string>();
  const serve = (m: Manifest, files: ReadonlyMap<string, Uint8Array>) => {
    served.set(`/api/v1/models/${m.version}/manifest.json`, JSON.stringify(m));
    for (const [p, b] of files) served.set(`/api/v1/models/${m.version}/files/${p}`, b);
  };
  serve(signedNext, next.packageFiles);
  served.set('/models/default/manifest.json', JSON.stringify(bundled.manifest));
  let assignment: Assignment = {
    active: signedNext.version,
    cohort: 'canary',
    shadow: null,
    checkedAt: new Date().toISOString(),
  };
  const events: DeviceEvent[] = [];
  let online = true;
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    if (!online) throw new TypeError('offline');
    if (url.startsWith('/api/') && new Headers(init?.headers).get('authorization') !== 'Bearer tok') {
      return new Response('{}', { status: 401 });
    }
    if (url === '/api/v1/assignment') return Response.json(assignment);
    if (url === '/api/v1/devices/me/events') {
      events.push(...(JSON.parse(String(init?.body)) as { events: DeviceEvent[] }).events);
      return Response.json({ stored: [] });
    }
    const body = served.get(url);
    return body === undefined ? new Response('{}', { status: 404 }) : new Response(body as BodyInit);
  }) as typeof fetch;
  const loads: (string | null)[] = [];
  const shadows: (string | null)[] = [];
  let running: string | null = null;
  const inference: InferenceControl = {
    async load(model) {
      if (!model) {
        loads.push(null);
        running = bundled.manifest.version;
        return ok(undefined);
      }
      const r = await loadInWorker(model);
      loads.push((model.manifest as Manifest).version);
      running = r.ok ? r.value : null;
      return r.ok ? ok(undefined) : r;
    },
    async setShadow(model) {
      if (!model) {
        shadows.push(null);
        return ok(null);
      }
      const r = await loadInWorker(model);
      shadows.push((model.manifest as Manifest).version);
      return r.ok ? ok(r.value) : r;
    },
    get modelVersion() {
      return running;
    },
  };
  const store = await ModelStore.open(`models-test-${++n}`);
  const states: UpdateState[] = [];
  const make = () =>
    new DeviceRollout({
      store,
      inference,
      credentials: async () => ({ token: 'tok', labelKey: keys.publicKey }),
      fetch: fetchFn,
      bundledBaseUrl: '/models/default/',
      onChange: (s) => states.push(s),
    });
  return {
    keys,
    bundled,
    next,
    signedNext,
    served,
    serve,
    store,
    events,
    loads,
    shadows,
    make,
    setAssignment: (a: Partial<Assignment>) => {
      assignment = { ...assignment, ...a };
    },
    setOnline: (v: boolean) => {
      online = v;
    },
  };
}

/** setup() with a service that started, found the next version, and had it accepted (now active). */
async function setupAccepted() {
  const s = await setup();
  const svc = s.make();
  await svc.start();
  await svc.check();
  await svc.accept();
  return { s, svc };
}

describe('DeviceRollout', () => {
  it('runs the bundled model, stages an assigned signed version, and activates it only when accepted', async () => {
    const s = await setup();
    const svc = s.make();
    expect((await svc.start()).ok).toBe(true);
    expect(svc.state).toMatchObject({ bundled: true, activeVersion: s.bundled.manifest.version });
    await svc.check();
    expect(svc.state.staged?.version).toBe(s.signedNext.version);
    expect(svc.state.cohort).toBe('canary');
    // Not activated by the check itself.
    expect(svc.state.activeVersion).toBe(s.bundled.manifest.version);
    expect(s.loads).toEqual([null]);
    const r = await svc.accept();
    expect(r).toEqual({ ok: true, value: s.signedNext.version });
    expect(svc.state).toMatchObject({ bundled: false, activeVersion: s.signedNext.version, staged: null });
    expect(await s.store.pointers()).toMatchObject({ active: s.signedNext.version, previous: null, staged: null });
    await svc.flushEvents();
    expect(s.events.map((e) => [e.kind, e.version])).toEqual([['model-activated', s.signedNext.version]]);
    // The next start runs the stored version without asking.
    const again = s.make();
    await again.start();
    expect(again.state).toMatchObject({ bundled: false, activeVersion: s.signedNext.version });
  });

  it('activates a staged version at the next start', async () => {
    const s = await setup();
    const svc = s.make();
    await svc.start();
    await svc.check();
    const restarted = s.make();
    await restarted.start();
    expect(restarted.state.activeVersion).toBe(s.signedNext.version);
    expect(s.loads.at(-1)).toBe(s.signedNext.version);
  });

  it('refuses a tampered download, keeps the running model, shows and reports it (queued while offline)', async () => {
    const s = await setup();
    const w = s.next.packageFiles.get('weights.bin')!.slice();
    w[7] = w[7]! ^ 0x10;
    s.served.set(`/api/v1/models/${s.signedNext.version}/files/weights.bin`, w);
    const svc = s.make();
    await svc.start();
    await svc.check();
    expect(svc.state.staged).toBeNull();
    expect(svc.state.notice).toMatchObject({ version: s.signedNext.version, code: 'hash-mismatch' });
    expect(svc.state.activeVersion).toBe(s.bundled.manifest.version);
    await svc.flushEvents();
    expect(s.events).toEqual([expect.objectContaining({ kind: 'model-refused', code: 'hash-mismatch' })]);

    // Another key: refused as signature-mismatch; while offline the report waits and goes out later, once.
    const other = await generateLabelKeyPair();
    const foreign = await signManifest(s.next.manifest, other.privateKey, other.publicKey);
    s.served.set(`/api/v1/models/${s.signedNext.version}/manifest.json`, JSON.stringify(foreign));
    s.served.set(`/api/v1/models/${s.signedNext.version}/files/weights.bin`, s.next.packageFiles.get('weights.bin')!);
    s.setOnline(false);
    await svc.check();
    expect(svc.state.checkProblem).toMatch(/could not be reached/);
    s.setOnline(true);
    await svc.check();
    expect(svc.state.notice?.code).toBe('signature-mismatch');
    await svc.flushEvents();
    s.setOnline(false);
    await svc.report('model-refused', s.signedNext.version, 'signature-mismatch');
    expect(s.events).toHaveLength(2);
    s.setOnline(true);
    await svc.flushEvents();
    await svc.flushEvents();
    expect(s.events.map((e) => e.code)).toEqual(['hash-mismatch', 'signature-mismatch', 'signature-mismatch']);
    expect(new Set(s.events.map((e) => e.id)).size).toBe(3);
  });

  it('refuses at activation a signed version that fails warm-up, and puts the running one back', async () => {
    const s = await setup();
    const wrong = await signManifest(
      {
        ...s.next.manifest,
        parity: { ...s.next.manifest.parity, outputs: s.next.manifest.parity.outputs.map((r) => r.map(() => 0.5)) },
      },
      s.keys.privateKey,
      s.keys.publicKey,
    );
    s.serve(wrong, s.next.packageFiles);
    const svc = s.make();
    await svc.start();
    await svc.check();
    expect(svc.state.staged?.version).toBe(wrong.version);
    const r = await svc.accept();
    expect(r).toMatchObject({ ok: false, code: 'parity-failed' });
    expect(svc.state.notice?.code).toBe('parity-failed');
    expect(s.loads.at(-1)).toBeNull(); // back on the bundled model
    expect(await s.store.pointers()).toMatchObject({ active: null, staged: null });
  });

  it('rolls back an active version that produces NaN in use, and reports it', async () => {
    const { s, svc } = await setupAccepted();
    await svc.failedInUse('model-output-invalid');
    expect(svc.state).toMatchObject({ bundled: true, activeVersion: s.bundled.manifest.version });
    expect(svc.state.notice).toMatchObject({ version: s.signedNext.version, code: 'model-output-invalid' });
    await svc.flushEvents();
    expect(s.events.map((e) => e.kind)).toEqual(['model-activated', 'model-rolled-back']);
  });

  it('goes back to the bundled model when the server rolls back to it, behind the same prompt', async () => {
    const { s, svc } = await setupAccepted();
    s.setAssignment({ active: s.bundled.manifest.version, cohort: 'production' });
    await svc.check();
    expect(svc.state.staged).toMatchObject({ version: s.bundled.manifest.version, bundled: true });
    await svc.accept();
    expect(svc.state).toMatchObject({ bundled: true, activeVersion: s.bundled.manifest.version, staged: null });
    expect(await s.store.pointers()).toMatchObject({ active: null, previous: s.signedNext.version });
  });

  it('runs an assigned shadow candidate after verifying it, and stops it when unassigned', async () => {
    const s = await setup();
    s.setAssignment({ active: s.bundled.manifest.version, cohort: 'production', shadow: s.signedNext.version });
    const svc = s.make();
    await svc.start();
    await svc.check();
    expect(svc.state.shadow).toBe(s.signedNext.version);
    expect(svc.state.staged).toBeNull();
    expect(s.shadows).toEqual([s.signedNext.version]);
    s.setAssignment({ shadow: null });
    await svc.check();
    expect(svc.state.shadow).toBeNull();
    expect(s.shadows).toEqual([s.signedNext.version, null]);
    // Its bytes are not kept once it is no longer assigned.
    expect(await s.store.versions()).toEqual([]);
  });

  it('never asks the server without a device token', async () => {
    const s = await setup();
    const svc = new DeviceRollout({
      store: s.store,
      inference: { load: async () => ok(undefined), setShadow: async () => fail('internal'), modelVersion: 'v1' },
      credentials: async () => ({ token: null, labelKey: null }),
      fetch: (async () => {
        throw new Error('must not fetch');
      }) as unknown as typeof fetch,
      bundledBaseUrl: '/models/default/',
      onChange: () => {},
    });
    await svc.check();
    expect(svc.state.checkProblem).toBe('not enrolled');
  });
});
