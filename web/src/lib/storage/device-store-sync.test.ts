import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { describe, expect, it } from 'vitest';
import { OutcomeSchema } from '../../../../model/contract/outcome.ts';
import type { PredictionLog } from '../../../../model/contract/prediction-log.ts';
import { buildOutcome } from '../outcomes/build-outcome.ts';
import { logOutbox, outcomeOutbox } from '../sync/device-outboxes.ts';
import { SyncEngine } from '../sync/sync-engine.ts';
import { DeviceStore, getPinnedLabelKey, SYNC_STATE, setPinnedLabelKey } from './device-store.ts';
import { addLogs, openTestStore, testLog, unsyncedLogs } from './device-store-testing.ts';
import { applyRetention } from './retention.ts';

let n = 0;
const fresh = () => openTestStore(`sync-test-${++n}`);
const makeLog = (createdAt = new Date(), songId?: string) => testLog('form', songId, createdAt);
/** An empty database as version 1, 2 or 3 of the app left it (before logs moved into chunk records). */
const openOldDatabase = (name: string, version: 1 | 2 | 3) =>
  openDB(name, version, {
    upgrade(db) {
      const logs = db.createObjectStore('logs', { keyPath: 'log.id' });
      logs.createIndex('by-synced', ['synced', 'log.id']);
      if (version >= 2) {
        const outcomes = db.createObjectStore('outcomes', { keyPath: 'outcome.id' });
        outcomes.createIndex('by-synced', ['synced', 'outcome.id']);
        outcomes.createIndex('by-log', 'logId');
      }
      db.createObjectStore('catalogue');
      db.createObjectStore('settings');
      if (version === 3) db.createObjectStore('outbox', { autoIncrement: true });
    },
  });
const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000);
const ids = <T extends { id: string }>(xs: readonly T[]) => xs.map((x) => x.id);

describe('DeviceStore outbox states', () => {
  it('sets rejected logs aside with their reason: not unsynced, not retried, counted and listed', async () => {
    const store = await fresh();
    const logs = [makeLog(), makeLog(), makeLog()];
    await addLogs(store, logs);
    const r = await store.logs.markRejected([
      { id: logs[1]!.id, code: 'unknown-model-version', message: 'not registered' },
    ]);
    expect(r).toEqual({ ok: true, value: 1 });
    const unsynced = await unsyncedLogs(store);
    expect(unsynced.ok && ids(unsynced.value)).toEqual([logs[0]!.id, logs[2]!.id]);
    expect(await store.logs.count()).toEqual({ ok: true, value: { total: 3, unsynced: 2, rejected: 1 } });
    const listed = await store.logs.list();
    const rejected = listed.ok ? listed.value.find((l) => l.log.id === logs[1]!.id) : undefined;
    expect(rejected?.synced).toBe(SYNC_STATE.rejected);
    expect(rejected?.rejection).toMatchObject({ code: 'unknown-model-version', message: 'not registered' });
    // A synced log is never turned into a rejected one (e.g. a late answer for a duplicate).
    await store.logs.markSynced([logs[0]!.id]);
    expect(await store.logs.markRejected([{ id: logs[0]!.id, code: 'x', message: 'y' }])).toEqual({
      ok: true,
      value: 0,
    });
    expect(await store.logs.retryRejected()).toEqual({ ok: true, value: 1 });
    expect(await store.logs.count()).toEqual({ ok: true, value: { total: 3, unsynced: 2, rejected: 0 } });
  });

  it('prunes only synced logs: by age, then the oldest for space; never unsynced or rejected ones', async () => {
    const store = await fresh();
    // Made in time order, as on a device (ids are UUID v7 of the moment they are made).
    const oldUnsynced = makeLog(daysAgo(50));
    const oldRejected = makeLog(daysAgo(45));
    const old = [makeLog(daysAgo(40)), makeLog(daysAgo(35))];
    const recent = [makeLog(daysAgo(3)), makeLog(daysAgo(2)), makeLog(daysAgo(1))];
    await addLogs(store, [oldUnsynced, oldRejected, ...old, ...recent]);
    await store.logs.markSynced(ids([...old, ...recent]));
    await store.logs.markRejected([{ id: oldRejected.id, code: 'c', message: 'm' }]);
    expect(await store.logs.prune({ olderThan: daysAgo(30) })).toEqual({ ok: true, value: 2 });
    expect(await store.logs.prune({ extra: 2 })).toEqual({ ok: true, value: 2 });
    const left = await store.logs.list();
    expect(left.ok && ids(left.value.map((l) => l.log))).toEqual([recent[2]!.id, oldRejected.id, oldUnsynced.id]);
    // Asking for more than there is deletes only what is synced.
    expect(await store.logs.prune({ extra: 100 })).toEqual({ ok: true, value: 1 });
    expect(await store.logs.count()).toEqual({ ok: true, value: { total: 2, unsynced: 1, rejected: 1 } });
  });

  it("marks a batch synced without rewriting its logs, across outbox records, and lists each log's state", async () => {
    const store = await fresh();
    // 2,500 logs in two saves: more than one outbox record (2,000 ids each), and a single log appended later.
    const first = Array.from({ length: 1_500 }, () => makeLog());
    const second = Array.from({ length: 1_000 }, () => makeLog());
    const single = makeLog();
    await addLogs(store, first);
    await addLogs(store, second);
    await addLogs(store, [single]);
    // Re-adding a stored id queues it no second time.
    expect(await addLogs(store, [first[0]!])).toEqual({ ok: true, value: 0 });
    expect(await store.logs.count()).toEqual({ ok: true, value: { total: 2_501, unsynced: 2_501, rejected: 0 } });
    const batch = await unsyncedLogs(store, 1_000);
    expect(batch.ok && ids(batch.value)).toEqual(ids(first.slice(0, 1_000)));
    // Acknowledged: ids spanning the first two saves, an unknown id and one already marked.
    const acked = [...ids(first.slice(1_000)), ...ids(second.slice(0, 500)), 'no-such-id'];
    expect(await store.logs.markSynced(acked)).toEqual({ ok: true, value: 1_000 });
    expect(await store.logs.markSynced(acked)).toEqual({ ok: true, value: 0 });
    expect(await store.logs.count()).toEqual({ ok: true, value: { total: 2_501, unsynced: 1_501, rejected: 0 } });
    const next = await unsyncedLogs(store, 2_000);
    expect(next.ok && ids(next.value)).toEqual(ids([...first.slice(0, 1_000), ...second.slice(500), single]));
    const listed = await store.logs.list({ limit: 3_000 });
    const state = new Map(listed.ok ? listed.value.map((l) => [l.log.id, l.synced]) : []);
    expect(state.get(first[1_200]!.id)).toBe(SYNC_STATE.synced);
    expect(state.get(first[10]!.id)).toBe(SYNC_STATE.pending);
    expect(state.get(single.id)).toBe(SYNC_STATE.pending);
    // Fewer records than logs: 1,500 → two chunks, 1,000 → one, and the single log its own (the last one is full).
    // The rows themselves carry no sync state and were not rewritten: the ledger alone says what is pending.
    const raw = await openDB(`sync-test-${n}`);
    const chunks = (await raw.getAll('chunks')) as { rows: { log: { id: string }; synced?: number }[] }[];
    expect(chunks.map((c) => c.rows.length)).toEqual([1_000, 500, 1_000, 1]);
    expect(chunks.flatMap((c) => c.rows).some((r) => 'synced' in r)).toBe(false);
    const ledgers = (await raw.getAll('ledger')) as { pending: string[] }[];
    expect(ledgers.map((l) => l.pending.length)).toEqual([1_000, 0, 500, 1]);
    raw.close();
  });

  it('saves a 14,000-log batch as 14 chunk records, and a single log after a small save joins its chunk', async () => {
    const store = await fresh();
    const batch = Array.from({ length: 14_000 }, () => makeLog());
    expect(await addLogs(store, batch)).toEqual({ ok: true, value: 14_000 });
    const few = [makeLog(), makeLog()];
    await addLogs(store, few);
    const single = makeLog();
    await addLogs(store, [single]);
    const raw = await openDB(`sync-test-${n}`);
    expect(await raw.count('chunks')).toBe(15);
    raw.close();
    expect(await store.logs.count()).toEqual({ ok: true, value: { total: 14_003, unsynced: 14_003, rejected: 0 } });
    const newest = await store.logs.list({ limit: 3 });
    expect(newest.ok && ids(newest.value.map((l) => l.log))).toEqual(ids([single, few[1]!, few[0]!]));
    // Re-adding part of the batch (a retried save) stores nothing twice.
    expect(await addLogs(store, batch.slice(13_990))).toEqual({ ok: true, value: 0 });
  });

  it('keeps time order when two saves interleave (two tabs): listing, paging and what is sent next', async () => {
    const store = await fresh();
    const logs = Array.from({ length: 10 }, () => makeLog());
    const even = logs.filter((_, i) => i % 2 === 0);
    const odd = logs.filter((_, i) => i % 2 === 1);
    await addLogs(store, even);
    // Ids within the first save's range: a chunk of its own that overlaps the first.
    await addLogs(store, odd);
    const all = await store.logs.list();
    expect(all.ok && ids(all.value.map((l) => l.log))).toEqual(ids([...logs].reverse()));
    const page = await store.logs.list({ limit: 3, before: logs[6]!.id });
    expect(page.ok && ids(page.value.map((l) => l.log))).toEqual(ids([logs[5]!, logs[4]!, logs[3]!]));
    expect(await unsyncedLogs(store, 4)).toEqual({ ok: true, value: logs.slice(0, 4) });
    expect(await store.logs.markSynced(ids(logs.slice(0, 3)))).toEqual({ ok: true, value: 3 });
    const next = await store.logs.unsynced(2, new Set([logs[3]!.id]));
    expect(next.ok && ids(next.value.map((l) => l.log))).toEqual(ids(logs.slice(4, 6)));
  });

  it('upgrades a version-3 database in place: pending (in the outbox), synced, rejected logs and outcomes keep their state', async () => {
    const name = `sync-test-${++n}`;
    const v3 = await openOldDatabase(name, 3);
    const logs = Array.from({ length: 2_500 }, (_, i) => makeLog(daysAgo(40 - i / 100)));
    const rejected = logs[7]!;
    const pendingIds = ids(logs.filter((_, i) => i % 3 === 0));
    const tx = v3.transaction(['logs', 'outbox', 'outcomes', 'settings'], 'readwrite');
    for (const [i, log] of logs.entries()) {
      const row =
        log === rejected ? { log, synced: 2, rejection: { code: 'c', message: 'm', at: 'x' } } : { log, synced: 0 };
      void tx.objectStore('logs').put(i === 1 ? { ...row, label: 'Flowers — Miley Cyrus' } : row);
    }
    void tx.objectStore('outbox').add({ ids: pendingIds.slice(0, 2_000) });
    void tx.objectStore('outbox').add({ ids: pendingIds.slice(2_000) });
    const outcome = (log: PredictionLog) => {
      const b = buildOutcome({ log, country: 'GB', charted: true, date: '2026-11-20', deviceId: 'dev_test' });
      if (!b.ok) throw new Error(b.code);
      return b.value;
    };
    const [o1, o2] = [outcome(logs[1]!), outcome(logs[2]!)];
    void tx.objectStore('outcomes').put({ outcome: o1, synced: 1, logId: logs[1]!.id });
    void tx.objectStore('outcomes').put({ outcome: o2, synced: 0, logId: logs[2]!.id, label: 'L' });
    void tx.objectStore('settings').put('dev_kept', 'deviceId');
    await tx.done;
    v3.close();

    const store = await openTestStore(name);
    expect(await store.logs.count()).toEqual({
      ok: true,
      value: { total: 2_500, unsynced: pendingIds.length, rejected: 1 },
    });
    expect(await unsyncedLogs(store, 5_000)).toEqual({
      ok: true,
      value: logs.filter((l) => pendingIds.includes(l.id)),
    });
    const listed = await store.logs.list({ limit: 5_000 });
    const byId = new Map(listed.ok ? listed.value.map((l) => [l.log.id, l]) : []);
    expect(byId.size).toBe(2_500);
    expect(byId.get(logs[1]!.id)).toEqual({ log: logs[1], label: 'Flowers — Miley Cyrus', synced: SYNC_STATE.synced });
    expect(byId.get(rejected.id)).toMatchObject({
      synced: SYNC_STATE.rejected,
      rejection: { code: 'c', message: 'm' },
    });
    expect(await store.outcomes.count()).toEqual({ ok: true, value: { total: 2, unsynced: 1, rejected: 0 } });
    const pending = await store.outcomes.unsynced();
    expect(pending.ok && pending.value).toEqual([{ outcome: o2, logId: logs[2]!.id, label: 'L', synced: 0 }]);
    expect(await store.deviceId()).toEqual({ ok: true, value: 'dev_kept' });
    store.close();
    // The old stores are gone; the logs now sit in chunk records.
    const raw = await openDB(name);
    expect([...raw.objectStoreNames].sort()).toEqual(['catalogue', 'chunks', 'ledger', 'settings']);
    expect(await raw.count('chunks')).toBe(4);
    raw.close();
  });

  it('upgrades a version-2 database: its pending logs stay pending, synced and rejected ones keep their state', async () => {
    const name = `sync-test-${++n}`;
    const v2 = await openOldDatabase(name, 2);
    const [synced, pending, rejected] = [makeLog(daysAgo(40)), makeLog(daysAgo(39)), makeLog(daysAgo(38))];
    await v2.put('logs', { log: synced, synced: 1 });
    await v2.put('logs', { log: pending, synced: 0 });
    await v2.put('logs', { log: rejected, synced: 2, rejection: { code: 'c', message: 'm', at: 'x' } });
    v2.close();
    const store = await openTestStore(name);
    expect(await store.logs.count()).toEqual({ ok: true, value: { total: 3, unsynced: 1, rejected: 1 } });
    const unsynced = await unsyncedLogs(store);
    expect(unsynced.ok && ids(unsynced.value)).toEqual([pending.id]);
    // Pruning finds the synced one only; marking the migrated pending one synced takes it out of the outbox.
    expect(await store.logs.prune({ extra: 10 })).toEqual({ ok: true, value: 1 });
    expect(await store.logs.markSynced([pending.id])).toEqual({ ok: true, value: 1 });
    expect(await store.logs.count()).toEqual({ ok: true, value: { total: 2, unsynced: 0, rejected: 1 } });
  });

  it('keeps outcomes as contract records with their own outbox and per-log listing', async () => {
    const store = await fresh();
    const log = makeLog(new Date(), 'song-1');
    const built = buildOutcome({ log, country: 'GB', charted: true, date: '2026-11-20', deviceId: 'dev_test' });
    expect(built.ok).toBe(true);
    if (!built.ok) return;
    expect(OutcomeSchema.safeParse(built.value).success).toBe(true);
    expect(built.value.song).toEqual({ songId: 'song-1' });
    expect(await store.outcomes.add([{ outcome: built.value, logId: log.id, label: 'Song' }])).toEqual({
      ok: true,
      value: 1,
    });
    expect(await store.outcomes.add([{ outcome: built.value, logId: log.id }])).toEqual({ ok: true, value: 0 });
    const forLog = await store.outcomes.list({ match: (o) => o.logId === log.id });
    expect(forLog.ok && forLog.value.map((o) => o.label)).toEqual(['Song']);
    const pending = await store.outcomes.unsynced();
    expect(pending.ok && ids(pending.value.map((o) => o.outcome))).toEqual([built.value.id]);
    await store.outcomes.markSynced([built.value.id]);
    expect(await store.outcomes.count()).toEqual({ ok: true, value: { total: 1, unsynced: 0, rejected: 0 } });
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
    const v1 = await openOldDatabase(name, 1);
    const log = makeLog();
    await v1.put('logs', { log, synced: 0 });
    v1.close();
    const r = await DeviceStore.open({ name });
    if (!r.ok) throw new Error(r.code);
    const unsynced = await unsyncedLogs(r.value);
    expect(unsynced.ok && ids(unsynced.value)).toEqual([log.id]);
    expect(await r.value.outcomes.count()).toEqual({ ok: true, value: { total: 0, unsynced: 0, rejected: 0 } });
  });
});

describe('device outboxes under the sync engine', () => {
  it('uploads logs then outcomes, marks acknowledged ones synced and sets the rejected one aside', async () => {
    const store = await fresh();
    const logs = Array.from({ length: 7 }, () => makeLog());
    await addLogs(store, logs);
    const built = buildOutcome({ log: logs[0]!, country: 'DE', charted: false, date: '2026-11-01', deviceId: 'x' });
    if (!built.ok) throw new Error(built.code);
    await store.outcomes.add([{ outcome: built.value }]);
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
    expect(await store.logs.count()).toEqual({ ok: true, value: { total: 7, unsynced: 0, rejected: 1 } });
    expect(await store.outcomes.count()).toEqual({ ok: true, value: { total: 1, unsynced: 0, rejected: 0 } });
    // Nothing left to send: a second pass posts nothing, the rejected log is not retried.
    bodies.length = 0;
    expect(await engine.syncNow()).toEqual({ sent: 0, rejected: 0, complete: true });
    expect(bodies).toEqual([]);
  });

  it('rejects only the items a 403 names (logs of another device), and stops on a bare 403', async () => {
    const store = await fresh();
    const logs = [makeLog(), makeLog()];
    await addLogs(store, logs);
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
    await addLogs(store, [makeLog()]);
    bare = true;
    expect((await engine.syncNow()).complete).toBe(false);
    expect(engine.state.status).toBe('unauthorized');
  });

  it('retries later (no item marked) when storage fails under the engine', async () => {
    const store = await fresh();
    await addLogs(store, [makeLog()]);
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
    await addLogs(store, logs);
    await store.logs.markSynced(ids(logs.slice(0, 6)));
    // The app's other data and 10 logs in a quota of 10 logs: far over 80 %.
    const newest = await store.logs.list({ limit: 1 });
    const per = JSON.stringify(newest.ok ? newest.value[0] : null).length;
    let usage = 10 * per;
    const quota = 10 * per;
    const estimate = async () => ({ usage, quota });
    const r = await applyRetention(store, { maxAgeDays: 30, pressureRatio: 0.8 }, estimate);
    expect(r.prunedByAge).toBe(1);
    // Target 72 % of the quota: 2.8 logs' worth must go → 3, all synced.
    expect(r.prunedForSpace).toBe(3);
    expect(r.low).toBe(false);
    expect(await store.logs.count()).toEqual({ ok: true, value: { total: 6, unsynced: 4, rejected: 0 } });
    // Twice the quota: more must go than the two synced logs left; the four unsynced stay and the user is told.
    usage = 20 * per;
    const again = await applyRetention(store, { maxAgeDays: 30, pressureRatio: 0.8 }, estimate);
    expect(again.prunedForSpace).toBe(2);
    expect(again.low).toBe(true);
    const left = await unsyncedLogs(store);
    expect(left.ok && ids(left.value)).toEqual(ids(logs.slice(6)));
    // Under the threshold nothing is deleted for space.
    usage = per;
    expect(await applyRetention(store, { maxAgeDays: 30, pressureRatio: 0.8 }, estimate)).toMatchObject({
      prunedForSpace: 0,
      low: false,
    });
  });
});
