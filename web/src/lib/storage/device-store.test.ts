import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { describe, expect, it } from 'vitest';
import { PredictionLogSchema } from '../../../../model/contract/prediction-log.ts';
import { DeviceStore, storageErrorCode } from './device-store.ts';
import { addLogs, openTestStore, TEST_INPUTS, testLog, unsyncedLogs } from './device-store-testing.ts';
import { PredictionRecorder } from './prediction-recorder.ts';

let n = 0;
const fresh = () => openTestStore(`test-${++n}`);
const inputs = TEST_INPUTS;
const makeLog = (songId?: string) => testLog(songId ? 'catalogue' : 'form', songId);

describe('DeviceStore', () => {
  it('keeps logs as contract records, newest first, and unsynced ones in id order', async () => {
    const store = await fresh();
    const logs = [makeLog('a'), makeLog('b'), makeLog()];
    expect(await addLogs(store, logs, ['A', 'B', undefined])).toEqual({ ok: true, value: 3 });
    const listed = await store.logs.list();
    expect(listed.ok && listed.value.map((l) => l.log.id)).toEqual(logs.map((l) => l.id).reverse());
    expect(listed.ok && listed.value[2]!.label).toBe('A');
    for (const l of listed.ok ? listed.value : []) expect(PredictionLogSchema.safeParse(l.log).success).toBe(true);
    const unsynced = await unsyncedLogs(store);
    expect(unsynced.ok && unsynced.value.map((l) => l.id)).toEqual(logs.map((l) => l.id));
  });

  it('marks acknowledged ids synced, ignores unknown ids and counts both', async () => {
    const store = await fresh();
    const logs = [makeLog(), makeLog(), makeLog()];
    await addLogs(store, logs);
    expect(await store.logs.markSynced([logs[0]!.id, logs[2]!.id, 'nope'])).toEqual({ ok: true, value: 2 });
    const unsynced = await unsyncedLogs(store);
    expect(unsynced.ok && unsynced.value.map((l) => l.id)).toEqual([logs[1]!.id]);
    expect(await store.logs.count()).toEqual({ ok: true, value: { total: 3, unsynced: 1, rejected: 0 } });
  });

  it('stores a log id once (idempotent re-add)', async () => {
    const store = await fresh();
    const log = makeLog();
    await addLogs(store, [log]);
    expect(await addLogs(store, [log])).toEqual({ ok: true, value: 0 });
    expect(await store.logs.count()).toEqual({ ok: true, value: { total: 1, unsynced: 1, rejected: 0 } });
  });

  it('lists pages with `before`', async () => {
    const store = await fresh();
    const logs = Array.from({ length: 5 }, () => makeLog());
    await addLogs(store, logs);
    const page = await store.logs.list({ limit: 2, before: logs[3]!.id });
    expect(page.ok && page.value.map((l) => l.log.id)).toEqual([logs[2]!.id, logs[1]!.id]);
  });

  it('makes the device id once and keeps it', async () => {
    const name = `test-${++n}`;
    const a = await DeviceStore.open({ name });
    const id1 = a.ok ? await a.value.deviceId() : null;
    if (a.ok) a.value.close();
    const b = await DeviceStore.open({ name });
    const id2 = b.ok ? await b.value.deviceId() : null;
    expect(id1?.ok && id1.value).toMatch(/^dev_[0-9a-f]{32}$/);
    expect(id2).toEqual(id1);
  });

  it('stores the catalogue and settings', async () => {
    const store = await fresh();
    await store.putCatalogue({ version: 'c1', songs: [{ id: 's1', name: 'Song', artists: 'X', features: inputs }] });
    const c = await store.getCatalogue();
    expect(c.ok && c.value?.version).toBe('c1');
    expect(c.ok && c.value?.songs[0]?.features.tempo).toBe(inputs.tempo);
    await store.putSetting('k', { a: 1 });
    expect(await store.getSetting('k')).toEqual({ ok: true, value: { a: 1 } });
  });

  it('answers storage-blocked when another connection holds an old version open', async () => {
    const name = `test-${++n}`;
    // An old tab that ignores versionchange (no close): the upgrade is blocked.
    const old = await openDB(name, 1);
    const r = await DeviceStore.open({ name, version: 2, blockedTimeoutMs: 50 });
    expect(r).toMatchObject({ ok: false, code: 'storage-blocked' });
    old.close();
  });

  it('maps DOMException names to storage codes', () => {
    expect(storageErrorCode(new DOMException('full', 'QuotaExceededError'))).toBe('quota-exceeded');
    expect(storageErrorCode({ name: 'AbortError', inner: { name: 'QuotaExceededError' } })).toBe('quota-exceeded');
    expect(storageErrorCode(new DOMException('private', 'InvalidStateError'))).toBe('storage-unavailable');
    expect(storageErrorCode(new DOMException('nope', 'SecurityError'))).toBe('storage-unavailable');
    expect(storageErrorCode(new Error('disk'))).toBe('storage-failed');
  });
});

describe('PredictionRecorder', () => {
  it('keeps logs in memory when storage is unavailable and reports it', async () => {
    const rec = new PredictionRecorder(null);
    const r = await rec.record([makeLog()]);
    expect(r).toMatchObject({ ok: false, code: 'storage-unavailable' });
    expect(rec.unsaved).toBe(1);
  });

  it('retries unsaved logs on the next write', async () => {
    const store = await fresh();
    let failNext = true;
    const flaky = {
      logs: {
        add: (rows: Parameters<DeviceStore['logs']['add']>[0]) => {
          if (!failNext) return store.logs.add(rows);
          failNext = false;
          return Promise.resolve({ ok: false as const, code: 'quota-exceeded' as const, message: 'full' });
        },
      },
    };
    const rec = new PredictionRecorder(flaky as unknown as DeviceStore);
    const first = makeLog();
    expect(await rec.record([first])).toMatchObject({ ok: false, code: 'quota-exceeded' });
    expect(rec.unsaved).toBe(1);
    expect(await rec.record([makeLog()])).toEqual({ ok: true, value: 1 });
    expect(rec.unsaved).toBe(0);
    const listed = await store.logs.list();
    expect(listed.ok && listed.value.map((l) => l.log.id)).toContain(first.id);
    expect(await store.logs.count()).toEqual({ ok: true, value: { total: 2, unsynced: 2, rejected: 0 } });
  });

  it('stores a 5,000-log batch in a few transactions with progress, and still refuses one bad log deep inside', async () => {
    const store = await fresh();
    const rec = new PredictionRecorder(store);
    const logs = Array.from({ length: 5_000 }, (_, i) => makeLog(`song-${i}`));
    const seen: number[] = [];
    expect(await rec.record(logs, undefined, (saved) => seen.push(saved))).toEqual({ ok: true, value: 5_000 });
    expect(seen).toEqual([2_000, 4_000, 5_000]);
    expect(await store.logs.count()).toEqual({ ok: true, value: { total: 5_000, unsynced: 5_000, rejected: 0 } });
    const batch = Array.from({ length: 200 }, (_, i) => makeLog(`b-${i}`));
    const tooLoud = { ...batch[150]!, inputs: { ...batch[150]!.inputs, loudness: 9 } };
    const r = await rec.record([...batch.slice(0, 150), tooLoud, ...batch.slice(151)]);
    expect(r).toMatchObject({ ok: false, code: 'validation-failed', details: { id: tooLoud.id } });
    expect(await store.logs.count()).toMatchObject({ ok: true, value: { total: 5_000 } });
  });

  it('marks rows read by the sync engine synced, and only pending ones', async () => {
    const store = await fresh();
    await addLogs(store, [makeLog('a'), makeLog('b')]);
    const rows = await store.logs.unsynced(10);
    if (!rows.ok) throw new Error(rows.code);
    expect(rows.value.map((r) => r.synced)).toEqual([0, 0]);
    const rowIds = rows.value.map((r) => r.log.id);
    expect(await store.logs.markSynced([...rowIds, ...rowIds])).toEqual({ ok: true, value: 2 });
    expect(await store.logs.count()).toEqual({ ok: true, value: { total: 2, unsynced: 0, rejected: 0 } });
  });

  it('refuses a record that breaks the contract instead of storing it', async () => {
    const rec = new PredictionRecorder(await fresh());
    const bad = { ...makeLog(), outputs: [0.5] };
    expect(await rec.record([bad])).toMatchObject({ ok: false, code: 'validation-failed' });
  });
});
