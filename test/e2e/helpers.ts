/** Page helpers shared by the e2e tests: app readiness, IndexedDB reads, screenshots. */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import type { StoredLog } from '../../web/src/lib/storage/device-store.ts';

export const SCREENS = resolve(import.meta.dirname, '../artifacts/screens');

export async function screenshot(page: Page, name: string, fullPage = true): Promise<void> {
  mkdirSync(SCREENS, { recursive: true });
  await page.screenshot({ path: resolve(SCREENS, `${name}.png`), fullPage });
}

interface JukeboxGlobal {
  __jukebox?: {
    inference: { status: string; backends: { single: string; batch: string } | null; available: string[] };
    catalogueStatus: string;
    logCounts: { total: number; unsynced: number };
  };
}

/** Waits until the model is ready (or failed) and returns the status and backends. */
export async function waitReady(
  page: Page,
  catalogue = true,
): Promise<{ status: string; single?: string; available: string[] }> {
  await page.waitForFunction(
    (cat) => {
      const j = (globalThis as JukeboxGlobal).__jukebox;
      return j && j.inference.status !== 'starting' && (!cat || j.catalogueStatus !== 'loading');
    },
    catalogue,
    { timeout: 60_000 },
  );
  return page.evaluate(() => {
    const j = (globalThis as JukeboxGlobal).__jukebox!;
    return { status: j.inference.status, single: j.inference.backends?.single, available: [...j.inference.available] };
  });
}

/** Every stored log, read straight from IndexedDB (not through the app's code). */
export function readLogs(page: Page): Promise<StoredLog[]> {
  return page.evaluate(
    () =>
      new Promise<StoredLog[]>((resolve, reject) => {
        const open = indexedDB.open('jukebox-edge');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const q = db.transaction('logs').objectStore('logs').getAll();
          q.onsuccess = () => {
            db.close();
            resolve(q.result as StoredLog[]);
          };
          q.onerror = () => reject(q.error);
        };
      }),
  );
}

/** How many logs IndexedDB holds, counted straight from the store (the app's own counter updates asynchronously). */
export function logCount(page: Page): Promise<number> {
  return page.evaluate(
    () =>
      new Promise<number>((resolve, reject) => {
        const open = indexedDB.open('jukebox-edge');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const q = db.transaction('logs').objectStore('logs').count();
          q.onsuccess = () => {
            db.close();
            resolve(q.result);
          };
          q.onerror = () => reject(q.error);
        };
      }),
  );
}

/** `expect.poll` with a timeout fit for a shared, loaded 2-core machine (vitest's default is 1 s). */
export function poll<T>(fn: () => Promise<T> | T, timeout = 15_000) {
  return expect.poll(fn, { timeout });
}
