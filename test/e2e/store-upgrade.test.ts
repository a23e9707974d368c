/**
 * The device database's upgrade from version 3 (one record per log, an `outbox` store of pending ids) to version 4
 * (chunk records with a ledger), in the real browser: a device updated with logs in place keeps every one, each
 * with its state — pending stays pending, synced stays synced, a refused one keeps its reason — and its outcomes.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromVector } from '../../model/contract/features.ts';
import { MEANS } from '../../model/testing/tiny-model.ts';
import { buildOutcome } from '../../web/src/lib/outcomes/build-outcome.ts';
import { buildLog } from '../../web/src/lib/storage/prediction-recorder.ts';
import { type ServerProcess, startServerProcess } from '../chaos/server-process.ts';
import { launchChromium } from './browser.ts';
import { poll, readLogs, waitReady } from './helpers.ts';

let server: ServerProcess;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  server = await startServerProcess();
  browser = await launchChromium();
  page = await (await browser.newContext()).newPage();
  page.setDefaultTimeout(30_000);
});

afterAll(async () => {
  await browser?.close();
  await server?.dispose();
});

const inputs = fromVector(MEANS.map((v, i) => (i === 0 || i === 6 ? 1 : i === 4 ? 5 : v)));
const ctx = { deviceId: 'dev_upgrade', modelVersion: 'v123', backend: 'wasm' as const, latencyMs: 0.4 };

describe('device database upgrade', () => {
  it('moves a version-3 database into chunks without losing a log, an outcome or a state', async () => {
    const logs = Array.from({ length: 1_200 }, (_, i) =>
      buildLog(ctx, { inputs, outputs: new Float32Array(72).fill(0.25), source: 'batch', songId: `s${i}` }),
    );
    const pending = logs.filter((_, i) => i % 4 === 0).map((l) => l.id);
    const rejected = logs[1]!.id;
    const built = buildOutcome({ log: logs[2]!, country: 'GB', charted: true, date: '2026-11-20', deviceId: 'x' });
    if (!built.ok) throw new Error(built.code);
    // Same origin as the app, without starting it: the old version's database is made by hand.
    await page.goto(`${server.url}/api/v1/not-here`);
    await page.evaluate(
      ({ logs, pending, rejected, outcome }) =>
        new Promise<void>((resolve, reject) => {
          const open = indexedDB.open('jukebox-edge', 3);
          open.onupgradeneeded = () => {
            const db = open.result;
            db.createObjectStore('logs', { keyPath: 'log.id' }).createIndex('by-synced', ['synced', 'log.id']);
            const o = db.createObjectStore('outcomes', { keyPath: 'outcome.id' });
            o.createIndex('by-synced', ['synced', 'outcome.id']);
            o.createIndex('by-log', 'logId');
            db.createObjectStore('catalogue');
            db.createObjectStore('settings');
            db.createObjectStore('outbox', { autoIncrement: true });
          };
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const db = open.result;
            const tx = db.transaction(['logs', 'outbox', 'outcomes'], 'readwrite');
            for (const log of logs) {
              const no = log.id === rejected;
              tx.objectStore('logs').put(
                no
                  ? { log, synced: 2, label: 'L', rejection: { code: 'unknown-model-version', message: 'm', at: 'x' } }
                  : { log, synced: 0, label: 'L' },
              );
            }
            tx.objectStore('outbox').add({ ids: pending });
            tx.objectStore('outcomes').put({ outcome, synced: 0, logId: logs[2]!.id });
            tx.oncomplete = () => {
              db.close();
              resolve();
            };
            tx.onerror = () => reject(tx.error);
          };
        }),
      { logs, pending, rejected, outcome: built.value },
    );
    // The app, not enrolled (so nothing syncs): its store opens version 4 and upgrades.
    await page.goto(server.url);
    await waitReady(page, false);
    const counts = () =>
      page.evaluate(() => (globalThis as { __jukebox?: { logCounts: unknown } }).__jukebox?.logCounts);
    await poll(counts).toEqual({ total: 1_200, unsynced: pending.length, rejected: 1 });
    const stored = await readLogs(page);
    expect(stored.map((r) => r.log)).toEqual(logs);
    const state = new Map(stored.map((r) => [r.log.id, r]));
    expect(pending.every((id) => state.get(id)?.synced === 0)).toBe(true);
    expect(state.get(rejected)).toMatchObject({ synced: 2, rejection: { code: 'unknown-model-version' } });
    expect(state.get(logs[3]!.id)).toMatchObject({ synced: 1, label: 'L' });
    const layout = await page.evaluate(
      () =>
        new Promise<{ stores: string[]; chunks: number; outcomes: number }>((resolve, reject) => {
          const open = indexedDB.open('jukebox-edge');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const db = open.result;
            const tx = db.transaction(['chunks', 'ledger']);
            const chunks = tx.objectStore('chunks').count(IDBKeyRange.bound(['log', ''], ['log', '\uffff']));
            const outcomes = tx.objectStore('ledger').getAll(IDBKeyRange.bound(['outcome', ''], ['outcome', '\uffff']));
            tx.oncomplete = () => {
              db.close();
              resolve({
                stores: [...db.objectStoreNames].sort(),
                chunks: chunks.result,
                outcomes: (outcomes.result as { pending: string[] }[]).flatMap((l) => l.pending).length,
              });
            };
          };
        }),
    );
    expect(layout).toEqual({ stores: ['catalogue', 'chunks', 'ledger', 'settings'], chunks: 2, outcomes: 1 });
  });
});
