import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { fail, ok, type Result } from '../../../../model/contract/errors.ts';
import type { Manifest } from '../../../../model/contract/manifest.ts';
import { createDenseModel, parseDenseModel } from '../../../../model/runtime/dense-model.ts';
import { warmUpCheck } from '../../../../model/runtime/warm-up-check.ts';
import { generateLabelKeyPair, signManifest } from '../../../../model/signing/manifest-signature.ts';
import { makeTinyModel } from '../../../../model/testing/tiny-model.ts';
import {
  ModelInstaller,
  type ModelPointers,
  type ModelVault,
  NO_POINTERS,
  type StoredModel,
} from './model-installer.ts';

class MemoryVault implements ModelVault {
  readonly models = new Map<string, StoredModel>();
  p: ModelPointers = NO_POINTERS;
  async get(v: string) {
    return this.models.get(v);
  }
  async put(m: StoredModel) {
    this.models.set(m.manifest.version, m);
  }
  async delete(v: string) {
    this.models.delete(v);
  }
  async pointers() {
    return this.p;
  }
  async setPointers(p: ModelPointers) {
    this.p = p;
  }
}

/** Real loading: parse, upload, warm-up parity check, dispose. */
async function tryLoad(m: StoredModel): Promise<Result<unknown>> {
  const json = JSON.parse(new TextDecoder().decode(m.files.get('model.json')));
  const parsed = parseDenseModel(json, m.files.get('weights.bin')!.slice().buffer);
  if (!parsed.ok) return parsed;
  const model = createDenseModel(parsed.value);
  try {
    return await warmUpCheck(model, m.manifest.parity);
  } finally {
    model.dispose();
  }
}

async function setup() {
  const keys = await generateLabelKeyPair();
  const tiny = await makeTinyModel(7);
  const manifest = await signManifest(tiny.manifest, keys.privateKey, keys.publicKey);
  const served = new Map<string, Uint8Array>();
  const serve = (m: Manifest, files: ReadonlyMap<string, Uint8Array>) => {
    served.set(`/m/${m.version}/manifest.json`, new TextEncoder().encode(JSON.stringify(m)));
    for (const [path, bytes] of files) served.set(`/m/${m.version}/files/${path}`, bytes);
  };
  serve(manifest, tiny.packageFiles);
  const vault = new MemoryVault();
  const events: string[] = [];
  const installer = new ModelInstaller({
    vault,
    download: async ({ version, path }) => {
      const url = path ? `/m/${version}/files/${path}` : `/m/${version}/manifest.json`;
      const b = served.get(url);
      return b ? ok(b) : fail('network-error', { url });
    },
    publicKey: async () => keys.publicKey,
    tryLoad,
    report: (e) => events.push(`${e.kind}:${e.code ?? ''}`),
  });
  return { keys, tiny, manifest, served, serve, vault, installer, events };
}

describe('ModelInstaller', () => {
  it('stages a signed version and activates it, keeping the previous one', async () => {
    const s = await setup();
    s.vault.p = { ...NO_POINTERS, active: 'v-old' };
    expect(await s.installer.stage(s.manifest.version)).toEqual({ status: 'staged', version: s.manifest.version });
    expect(s.vault.p.active).toBe('v-old');
    expect((await s.installer.activateStaged()).active).toBe(s.manifest.version);
    expect(s.vault.p).toMatchObject({ active: s.manifest.version, previous: 'v-old', staged: null });
    expect(await s.installer.stage(s.manifest.version)).toMatchObject({ status: 'already-active' });
  });

  it('refuses a weights file that differs by one byte, and the active model stays', async () => {
    const s = await setup();
    s.vault.p = { ...NO_POINTERS, active: 'v-old' };
    const w = s.tiny.packageFiles.get('weights.bin')!.slice();
    w[5] = (w[5] ?? 0) ^ 0x01;
    s.served.set(`/m/${s.manifest.version}/files/weights.bin`, w);
    const r = await s.installer.stage(s.manifest.version);
    expect(r.status === 'refused' && r.refusal.code).toBe('hash-mismatch');
    expect(s.vault.p.active).toBe('v-old');
    expect(s.vault.p.staged).toBeNull();
    expect(s.vault.p.refused.map((x) => x.code)).toEqual(['hash-mismatch']);
    expect(s.events).toEqual(['refused:hash-mismatch']);
  });

  it('refuses a truncated download, a changed manifest field and another key', async () => {
    const s = await setup();
    const v = s.manifest.version;
    s.served.set(`/m/${v}/files/weights.bin`, s.tiny.packageFiles.get('weights.bin')!.slice(0, 40));
    const truncated = await s.installer.stage(v);
    expect(truncated.status === 'refused' && truncated.refusal.code).toBe('download-incomplete');

    s.served.set(`/m/${v}/files/weights.bin`, s.tiny.packageFiles.get('weights.bin')!);
    const changed = { ...s.manifest, lineage: { ...s.manifest.lineage, seed: 99 } };
    s.served.set(`/m/${v}/manifest.json`, new TextEncoder().encode(JSON.stringify(changed)));
    const tampered = await s.installer.stage(v);
    expect(tampered.status === 'refused' && tampered.refusal.code).toBe('signature-mismatch');

    const other = await generateLabelKeyPair();
    const foreign = await signManifest(s.tiny.manifest, other.privateKey, other.publicKey);
    s.served.set(`/m/${v}/manifest.json`, new TextEncoder().encode(JSON.stringify(foreign)));
    const wrongKey = await s.installer.stage(v);
    expect(wrongKey.status === 'refused' && wrongKey.refusal.code).toBe('signature-mismatch');
    expect(s.vault.models.size).toBe(0);
  });

  it('refuses at activation a model that fails its warm-up parity check', async () => {
    const s = await setup();
    s.vault.p = { ...NO_POINTERS, active: 'v-old' };
    // Signed by the label but with wrong reference outputs: it must still never run.
    const wrong = {
      ...s.tiny.manifest,
      parity: { ...s.tiny.manifest.parity, outputs: s.tiny.manifest.parity.outputs.map((r) => r.map(() => 0.5)) },
    };
    const signed = await signManifest(wrong, s.keys.privateKey, s.keys.publicKey);
    s.serve(signed, s.tiny.packageFiles);
    expect((await s.installer.stage(signed.version)).status).toBe('staged');
    const r = await s.installer.activateStaged();
    expect(r.active).toBe('v-old');
    expect(r.refusal?.code).toBe('parity-failed');
    expect(s.vault.p).toMatchObject({ active: 'v-old', staged: null });
  });

  it('rolls back to the previous version when the active one fails in use', async () => {
    const s = await setup();
    s.vault.p = { ...NO_POINTERS, active: 'v-new', previous: 'v-old' };
    expect((await s.installer.rollBack('model-output-invalid')).active).toBe('v-old');
    expect(s.vault.p.refused.at(-1)).toMatchObject({ version: 'v-new', code: 'model-output-invalid' });
    expect(s.events).toEqual(['rolled-back:model-output-invalid']);
  });
});
