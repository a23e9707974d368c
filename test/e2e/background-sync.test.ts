/**
 * Background Sync: with the network gone, a failed upload is kept by the service worker (Workbox's queue in
 * IndexedDB) and replayed by it when the network is back, with the app's tab closed. Then the reopened app marks
 * the replayed logs synced without storing anything twice (ingest is idempotent by id).
 */
import Database from 'better-sqlite3';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrollmentCode, type ServerProcess, startServerProcess } from '../chaos/server-process.ts';
import { launchChromium } from './browser.ts';
import { poll, waitReady } from './helpers.ts';

let server: ServerProcess;
let browser: Browser;
let context: BrowserContext;

function serverLogs(deviceId: string): { rows: number; distinct: number } {
  const db = new Database(server.sqlitePath, { readonly: true, fileMustExist: true });
  try {
    const r = db
      .prepare('SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS ids FROM logs WHERE device_id = ?')
      .get(deviceId) as { n: number; ids: number };
    return { rows: r.n, distinct: r.ids };
  } finally {
    db.close();
  }
}

/** Requests waiting in the service worker's Background Sync queue (Workbox's own database). */
function queuedUploads(p: Page): Promise<number> {
  return p.evaluate(
    () =>
      new Promise<number>((resolve) => {
        const open = indexedDB.open('workbox-background-sync');
        open.onerror = () => resolve(0);
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains('requests')) {
            db.close();
            resolve(0);
            return;
          }
          const count = db.transaction('requests').objectStore('requests').count();
          count.onsuccess = () => {
            db.close();
            resolve(count.result);
          };
          count.onerror = () => resolve(0);
        };
      }),
  );
}

const jukebox = (p: Page) =>
  p.evaluate(() => {
    const j = (globalThis as unknown as { __jukebox: { deviceId: string; sync: { phase: string; pending: number } } })
      .__jukebox;
    return { deviceId: j.deviceId, phase: j.sync.phase, pending: j.sync.pending };
  });

beforeAll(async () => {
  server = await startServerProcess();
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
});

afterAll(async () => {
  await browser?.close();
  await server?.dispose();
});

describe('Background Sync', () => {
  it('replays an upload that failed offline after the tab is closed, and nothing is stored twice', async () => {
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    await page.goto(`${server.url}/?enroll=${await enrollmentCode(server)}&syncBackoffMs=60000-120000`);
    await waitReady(page);
    // The service worker must control the page for its queue to see the app's uploads.
    await page.evaluate(() => navigator.serviceWorker.ready);
    if (!(await page.evaluate(() => !!navigator.serviceWorker.controller))) await page.reload();
    await poll(() => page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);
    await waitReady(page);
    await poll(async () => (await jukebox(page)).phase).toBe('idle');
    const { deviceId } = await jukebox(page);

    await context.setOffline(true);
    await page.locator('#f-tempo').fill('133');
    await page.getByRole('button', { name: 'Predict where it charts' }).click();
    await poll(() => page.getByTestId('result').textContent()).toContain('· logged');
    // The app's sync (2 s after a prediction) fails for want of a network: the worker queues that POST.
    await poll(() => queuedUploads(page), 20_000).toBeGreaterThanOrEqual(1);
    expect(serverLogs(deviceId).rows).toBe(0);
    expect((await jukebox(page)).pending).toBe(1);

    // The marketer closes the app; the network comes back; the browser's sync event replays the queue.
    await page.close();
    await context.setOffline(false);
    await poll(() => serverLogs(deviceId).rows, 60_000).toBe(1);

    // Reopened: the app's own sync finds the log already stored and marks it synced; still one row on the server.
    const again = await context.newPage();
    await again.goto(server.url);
    await waitReady(again);
    await poll(async () => (await jukebox(again)).pending, 30_000).toBe(0);
    expect(serverLogs(deviceId)).toEqual({ rows: 1, distinct: 1 });
    await again.close();
  });
});
