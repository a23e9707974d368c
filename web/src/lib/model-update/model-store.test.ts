import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { makeTinyModel } from '../../../../model/testing/tiny-model.ts';
import { NO_POINTERS } from './model-installer.ts';
import { ModelStore } from './model-store.ts';

describe('ModelStore', () => {
  it('keeps versions with their exact bytes, pointers and cards across reopening', async () => {
    const tiny = await makeTinyModel(5);
    const a = await ModelStore.open('store-test-1');
    expect(await a.pointers()).toEqual(NO_POINTERS);
    await a.put({ manifest: tiny.manifest, files: tiny.packageFiles });
    await a.setPointers({ ...NO_POINTERS, active: tiny.manifest.version });
    await a.putCard(tiny.manifest.version, { intendedUse: 'tests' });
    a.close();
    const b = await ModelStore.open('store-test-1');
    const got = await b.active();
    expect(got?.manifest).toEqual(tiny.manifest);
    expect(got?.files.get('weights.bin')).toEqual(tiny.packageFiles.get('weights.bin'));
    expect(got?.files.get('model.json')).toEqual(tiny.packageFiles.get('model.json'));
    expect(await b.getCard(tiny.manifest.version)).toEqual({ intendedUse: 'tests' });
    expect(await b.versions()).toEqual([tiny.manifest.version]);
    await b.delete(tiny.manifest.version);
    expect(await b.get(tiny.manifest.version)).toBeUndefined();
    expect(await b.getCard(tiny.manifest.version)).toBeUndefined();
  });

  it('is a separate database from the prediction outbox', async () => {
    const s = await ModelStore.open();
    const names = (await indexedDB.databases()).map((d) => d.name);
    expect(names).toContain('jukebox-edge-models');
    expect(names).not.toContain('jukebox-edge');
    s.close();
  });
});
