import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { describe, expect, it } from 'vitest';
import { fromVector } from '../../../../model/contract/features.ts';
import { OutcomeSchema } from '../../../../model/contract/outcome.ts';
import { MEANS } from '../../../../model/testing/tiny-model.ts';
import { buildOutcome } from '../outcomes/build-outcome.ts';
import { logOutbox, outcomeOutbox } from '../sync/device-outboxes.ts';
import { SyncEngine } from '../sync/sync-engine.ts';
import { DeviceStore, getPinnedLabelKey, SYNC_STATE, setPinnedLabelKey } from './device-store.ts';
import { buildLog } from './prediction-recorder.ts';
import { applyRetention } from './retention.ts';

let n = 0;
const fresh = async () => {
  const r = await DeviceStore.open({ name: `sync-test-${++n}` });
  if (!r.ok) throw new Error(r.code);
  return r.value;
};
const inputs = fromVector(MEANS.map((v, i) => (i === 0 || i === 6 ? 1 : i === 4 ? 5 : v)));
const ctx = { deviceId: 'dev_test', modelVersion: 'v123', backend: 'wasm' as const, latencyMs: 0.4 };
const makeLog = (createdAt = new Date(), songId?: string) =>
  buildLog(ctx, { inputs, outputs: new Float32Array(72).fill(0.25), source: 'form', songId }, createdAt);
const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000);
const ids = <T extends { id: string }>(xs: readonly T[]) => xs.map((x) => x.id);

describe('DeviceStore outbox states', () => {
  it('sets rejected logs aside with their reason: not unsynced, not retried, counted and listed', async () => {
    const store = await fresh();
    const logs = [makeLog(), makeLog(), makeLog()];
    await store.addLogs(logs);
    const r = await store.markRejected([{ id: logs[1]!.id, code: 'unknown-model-version', message: 'not registered' }]);
    expect(r).toEqual({ ok: true, value: 1 });
    const unsynced = await store.unsyncedLogs();
    expect(unsynced.ok && ids(unsynced.value)).toEqual([logs[0]!.id, logs[2]!.id]);
    expect(await store.countLogs()).toEqual({ ok: true, value: { total: 3, unsynced: 2, rejected: 1 } });
    const listed = await store.listLogs();
    const rejected = listed.ok ? listed.value.find((l) => l.log.id === logs[1]!.id) : undefined;
    expect(rejected?.synced).toBe(SYNC_STATE.rejected);
    expect(rejected?.rejection).toMatchObject({ code: 'unknown-model-version', message: 'not registered' });
    // A synced log is never turned into a rejected one (e.g. a late answer for a duplicate).
    await store.markSynced([logs[0]!.id]);
    expect(await store.markRejected([{ id: logs[0]!.id, code: 'x', message: 'y' }])).toEqual({ ok: true, value: 0 });
    expect(await store.retryRejected()).toEqual({ ok: true, value: 1 });
    expect(await store.countLogs()).toEqual({ ok: true, value: { total: 3, unsynced: 2, rejected: 0 } });
  });

  it('prunes only synced logs: by age, then the oldest for space; never unsynced or rejected ones', async () => {
    const store = await fresh();
    // Made in time order, as on a device (ids are UUID v7 of the moment they are made).
    const oldUnsynced = makeLog(daysAgo(50));
    const oldRejected = makeLog(daysAgo(45));
    const old = [makeLog(daysAgo(40)), makeLog(daysAgo(35))];
    const recent = [makeLog(daysAgo(3)), makeLog(daysAgo(2)), makeLog(daysAgo(1))];
    await store.addLogs([oldUnsynced, oldRejected, ...old, ...recent]);
    await store.markSynced(ids([...old, ...recent]));
    await store.markRejected([{ id: oldRejected.id, code: 'c', message: 'm' }]);
    expect(await store.pruneSyncedLogs({ olderThan: daysAgo(30) })).toEqual({ ok: true, value: 2 });
    expect(await store.pruneSyncedLogs({ extra: 2 })).toEqual({ ok: true, value: 2 });
    const left = await store.listLogs();
    expect(left.ok && ids(left.value.map((l) => l.log))).toEqual([recent[2]!.id, oldRejected.id, oldUnsynced.id]);
    // Asking for more than there is deletes only what is synced.
    expect(await store.pruneSyncedLogs({ extra: 100 })).toEqual({ ok: true, value: 1 });
    expect(await store.countLogs()).toEqual({ ok: true, value: { total: 2, unsynced: 1, rejected: 1 } });
  });

  it("marks a batch synced without rewriting its logs, across outbox records, and lists each log's state", async () => {
    const store = await fresh();
    // 2,500 logs in two saves: more than one outbox record (2,000 ids each), and a single log appended later.
    const first = Array.from({ length: 1_500 }, () => makeLog());
    const second = Array.from({ length: 1_000 }, () => makeLog());
    const single = makeLog();
    await store.addLogs(first);
    await store.addLogs(second);
    await store.addLogs([single]);
    // Re-adding a stored id queues it no second time.
    expect(await store.addLogs([first[0]!])).toEqual({ ok: true, value: 0 });
    expect(await store.countLogs()).toEqual({ ok: true, value: { total: 2_501, unsynced: 2_501, rejected: 0 } });
    const batch = await store.unsyncedLogs(1_000);
    expect(batch.ok && ids(batch.value)).toEqual(ids(first.slice(0, 1_000)));
    // Acknowledged: ids spanning the first two saves, an unknown id and one already marked.
    const acked = [...ids(first.slice(1_000)), ...ids(second.slice(0, 500)), 'no-such-id'];
    expect(await store.markSynced(acked)).toEqual({ ok: true, value: 1_000 });
    expect(await store.markSynced(acked)).toEqual({ ok: true, value: 0 });
    expect(await store.countLogs()).toEqual({ ok: true, value: { total: 2_501, unsynced: 1_501, rejected: 0 } });
    const next = await store.unsyncedLogs(2_000);
    expect(next.ok && ids(next.value)).toEqual(ids([...first.slice(0, 1_000), ...second.slice(500), single]));
    const listed = await store.listLogs({ limit: 3_000 });
    const state = new Map(listed.ok ? listed.value.map((l) => [l.log.id, l.synced]) : []);
    expect(state.get(first[1_200]!.id)).toBe(SYNC_STATE.synced);
    expect(state.get(first[10]!.id)).toBe(SYNC_STATE.pending);
    expect(state.get(single.id)).toBe(SYNC_STATE.pending);
    // The stored rows themselves were not rewritten: the outbox alone says what is pending.
    const raw = await openDB(`sync-test-${n}`);
    expect((await raw.get('logs', first[1_200]!.id)).synced).toBe(SYNC_STATE.pending);
    raw.close();
  });

  it('upgrades a version-2 database: its pending logs stay pending, synced and rejected ones keep their state', async () => {
    const name = `sync-test-${++n}`;
    const v2 = await openDB(name, 2, {
      upgrade(db) {
        const logs = db.createObjectStore('logs', { keyPath: 'log.id' });
        logs.createIndex('by-synced', ['synced', 'log.id']);
        const outcomes = db.createObjectStore('outcomes', { keyPath: 'outcome.id' });
        outcomes.createIndex('by-synced', ['synced', 'outcome.id']);
        outcomes.createIndex('by-log', 'logId');
        db.createObjectStore('catalogue');
        db.createObjectStore('settings');
      },
    });
    const [synced, pending, rejected] = [makeLog(daysAgo(40)), makeLog(daysAgo(39)), makeLog(daysAgo(38))];
    await v2.put('logs', { log: synced, synced: 1 });
    await v2.put('logs', { log: pending, synced: 0 });
    await v2.put('logs', { log: rejected, synced: 2, rejection: { code: 'c', message: 'm', at: 'x' } });
    v2.close();
    const r = await DeviceStore.open({ name });
    if (!r.ok) throw new Error(r.code);
    const store = r.value;
    expect(await store.countLogs()).toEqual({ ok: true, value: { total: 3, unsynced: 1, rejected: 1 } });
    const unsynced = await store.unsyncedLogs();
    expect(unsynced.ok && ids(unsynced.value)).toEqual([pending.id]);
    // Pruning finds the synced one only; marking the migrated pending one synced takes it out of the outbox.
    expect(await store.pruneSyncedLogs({ extra: 10 })).toEqual({ ok: true, value: 1 });
    expect(await store.markSynced([pending.id])).toEqual({ ok: true, value: 1 });
    expect(await store.countLogs()).toEqual({ ok: true, value: { total: 2, unsynced: 0, rejected: 1 } });
  });

  it('keeps outcomes as contract records with their own outbox and per-log listing', async () => {
    const store = await fresh();
    const log = makeLog(new Date(), 'song-1');
    const built = buildOutcome({ log, country: 'GB', charted: true, date: '2026-11-20', deviceId: 'dev_test' });
    expect(built.ok).toBe(true);
    if (!built.ok) return;
    expect(OutcomeSchema.safeParse(built.value).success).toBe(true);
    expect(built.value.song).toEqual({ songId: 'song-1' });
    expect(await store.addOutcome(built.value, { logId: log.id, label: 'Song' })).toEqual({ ok: true, value: true });
    expect(await store.addOutcome(built.value, { logId: log.id })).toEqual({ ok: true, value: false });
    const forLog = await store.listOutcomes({ logId: log.id });
    expect(forLog.ok && forLog.value.map((o) => o.label)).toEqual(['Song']);
    const pending = await store.unsyncedOutcomes();
    expect(pending.ok && ids(pending.value)).toEqual([built.value.id]);
    await store.markOutcomesSynced([built.value.id]);
    expect(await store.countOutcomes()).toEqual({ ok: true, value: { total: 1, unsynced: 0, rejected: 0 } });
  });

  it('keeps the enrollment and the pinned label key, and forgets the token on request', async () => {
    const store = await fresh();
    expect(await store.getPinnedLabelKey()).toEqual({ ok: true, value: undefined });
    const key = { kty: 'EC', crv: 'P-256', x: 'abc', y: 'def' };
    await store.setPinnedLabelKey(key);
    expect(await store.getPinnedLabelKey()).toEqual({ ok: true, value: key });
    const e = { deviceId: 'dev_test', token: 't'.repeat(40), enrolledAt: new Date().toISOString() };
    await store.putEnrollment(e);
    expect(await store.getEnrollment()).toEqual({ ok: true, value: e });
    await store.clearEnrollment();
    expect(await store.getEnrollment()).toEqual({ ok: true, value: undefined });
    expect(await store.getPinnedLabelKey()).toEqual({ ok: true, value: key });
  });

  it('pins the label key through the module functions too (for code without a store at hand)', async () => {
    const name = `sync-test-${++n}`;
    const key = { kty: 'EC', crv: 'P-256', x: 'xx', y: 'yy' };
    expect(await getPinnedLabelKey({ name })).toEqual({ ok: true, value: undefined });
    expect((await setPinnedLabelKey(key, { name })).ok).toBe(true);
    expect(await getPinnedLabelKey({ name })).toEqual({ ok: true, value: key });
  });

  it('upgrades a version-1 database without losing its logs', async () => {
    const name = `sync-test-${++n}`;
    const v1 = await openDB(name, 1, {
      upgrade(db) {
        const logs = db.createObjectStore('logs', { keyPath: 'log.id' });
        logs.createIndex('by-synced', ['synced', 'log.id']);
        db.createObjectStore('catalogue');
        db.createObjectStore('settings');
      },
    });
    const log = makeLog();
    await v1.put('logs', { log, synced: 0 });
    v1.close();
    const r = await DeviceStore.open({ name });
    if (!r.ok) throw new Error(r.code);
    const unsynced = await r.value.unsyncedLogs();
    expect(unsynced.ok && ids(unsynced.value)).toEqual([log.id]);
    expect(await r.value.countOutcomes()).toEqual({ ok: true, value: { total: 0, unsynced: 0, rejected: 0 } });
  });
});

describe('device outboxes under the sync engine', () => {
  it('uploads logs then outcomes, marks acknowledged ones synced and sets the rejected one aside', async () => {
    const store = await fresh();
    const logs = Array.from({ length: 7 }, () => makeLog());
    await store.addLogs(logs);
    const built = buildOutcome({ log: logs[0]!, country: 'DE', charted: false, date: '2026-11-01', deviceId: 'x' });
    if (!built.ok) throw new Error(built.code);
    await store.addOutcome(built.value);
    const bad = logs[3]!.id;
    const bodies: { path: string; n: number }[] = [];
    const engine = new SyncEngine({
      outboxes: [logOutbox(store), outcomeOutbox(store)],
      batchSize: 3,
      post: async (path, body) => {
        const items = Object.values(body as Record<string, { id: string }[]>)[0]!;
        bodies.push({ path, n: items.length });
        const i = items.findIndex((x) => x.id === bad);
        if (i >= 0) {
          const items422 = [{ index: i, id: bad, code: 'unknown-model-version', message: 'not in the registry' }];
          return {
            status: 422,
            body: { error: { code: 'unknown-model-version', message: 'no', details: { items: items422 } } },
          };
        }
        return { status: 200, body: { stored: ids(items), duplicates: [] } };
      },
    });
    const report = await engine.syncNow();
    expect(report).toEqual({ sent: 7, rejected: 1, complete: true });
    // [0,1,2] stored; [3,4,5] refused for 3 alone; [4,5,6] stored; then the outcome.
    expect(bodies).toEqual([
      { path: '/api/v1/logs', n: 3 },
      { path: '/api/v1/logs', n: 3 },
      { path: '/api/v1/logs', n: 3 },
      { path: '/api/v1/outcomes', n: 1 },
    ]);
    expect(await store.countLogs()).toEqual({ ok: true, value: { total: 7, unsynced: 0, rejected: 1 } });
    expect(await store.countOutcomes()).toEqual({ ok: true, value: { total: 1, unsynced: 0, rejected: 0 } });
    // Nothing left to send: a second pass posts nothing, the rejected log is not retried.
    bodies.length = 0;
    expect(await engine.syncNow()).toEqual({ sent: 0, rejected: 0, complete: true });
    expect(bodies).toEqual([]);
  });

  it('rejects only the items a 403 names (logs of another device), and stops on a bare 403', async () => {
    const store = await fresh();
    const logs = [makeLog(), makeLog()];
    await store.addLogs(logs);
    let bare = false;
    const engine = new SyncEngine({
      outboxes: [logOutbox(store)],
      setTimer: () => 0,
      clearTimer: () => {},
      post: async (_p, body) => {
        if (bare) return { status: 403, body: { error: { code: 'forbidden', message: 'no' } } };
        const items = (body as { logs: { id: string }[] }).logs;
        if (items.some((l) => l.id === logs[0]!.id)) {
          const details = {
            problem: 'logs of another device',
            items: [{ index: 0, id: logs[0]!.id, deviceId: 'other' }],
          };
          return { status: 403, body: { error: { code: 'forbidden', message: 'not yours', details } } };
        }
        return { status: 200, body: { stored: ids(items), duplicates: [] } };
      },
    });
    expect(await engine.syncNow()).toEqual({ sent: 1, rejected: 1, complete: true });
    await store.addLogs([makeLog()]);
    bare = true;
    expect((await engine.syncNow()).complete).toBe(false);
    expect(engine.state.status).toBe('unauthorized');
  });

  it('retries later (no item marked) when storage fails under the engine', async () => {
    const store = await fresh();
    await store.addLogs([makeLog()]);
    const timers: number[] = [];
    const broken = { ...logOutbox(store), unsynced: () => Promise.reject(new Error('storage failed')) };
    const engine = new SyncEngine({
      outboxes: [broken],
      post: async () => ({ status: 500, body: null }),
      random: () => 0.5,
      setTimer: (_fn, ms) => timers.push(ms),
      clearTimer: () => {},
    });
    expect(await engine.syncNow()).toEqual({ sent: 0, rejected: 0, complete: false });
    expect(engine.state.status).toBe('waiting-to-retry');
    expect(timers).toHaveLength(1);
  });
});

describe('applyRetention', () => {
  it('deletes synced logs by age, then for space, and reports low storage only when nothing synced is left', async () => {
    const store = await fresh();
    const logs = [makeLog(daysAgo(60)), ...Array.from({ length: 9 }, (_, i) => makeLog(daysAgo(9 - i)))];
    await store.addLogs(logs);
    await store.markSynced(ids(logs.slice(0, 6)));
    // The app's other data and 10 logs in a quota of 10 logs: far over 80 %.
    const newest = await store.listLogs({ limit: 1 });
    const per = JSON.stringify(newest.ok ? newest.value[0] : null).length;
    let usage = 10 * per;
    const quota = 10 * per;
    const estimate = async () => ({ usage, quota });
    const r = await applyRetention(store, { maxAgeDays: 30, pressureRatio: 0.8 }, estimate);
    expect(r.prunedByAge).toBe(1);
    // Target 72 % of the quota: 2.8 logs' worth must go → 3, all synced.
    expect(r.prunedForSpace).toBe(3);
    expect(r.low).toBe(false);
    expect(await store.countLogs()).toEqual({ ok: true, value: { total: 6, unsynced: 4, rejected: 0 } });
    // Twice the quota: more must go than the two synced logs left; the four unsynced stay and the user is told.
    usage = 20 * per;
    const again = await applyRetention(store, { maxAgeDays: 30, pressureRatio: 0.8 }, estimate);
    expect(again.prunedForSpace).toBe(2);
    expect(again.low).toBe(true);
    const left = await store.unsyncedLogs();
    expect(left.ok && ids(left.value)).toEqual(ids(logs.slice(6)));
    // Under the threshold nothing is deleted for space.
    usage = per;
    expect(await applyRetention(store, { maxAgeDays: 30, pressureRatio: 0.8 }, estimate)).toMatchObject({
      prunedForSpace: 0,
      low: false,
    });
  });
});
