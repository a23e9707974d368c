/** Page helpers shared by the e2e tests: app readiness, IndexedDB reads, screenshots. */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { parseSongsCsv } from '../../model/catalogue/catalogue-csv.ts';
import { toVector } from '../../model/contract/features.ts';
import { readSharedDataFile } from '../../model/shared-data.ts';
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

/**
 * Every stored log, read straight from IndexedDB (not through the app's code), with its sync state as the store
 * defines it: the rows sit in `chunks` records of kind `log`, and each chunk's `ledger` record lists its pending
 * ids and its rejected ones (with why); the rest are synced.
 */
export function readLogs(page: Page): Promise<StoredLog[]> {
  return page.evaluate(
    () =>
      new Promise<StoredLog[]>((resolve, reject) => {
        const open = indexedDB.open('jukebox-edge');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const tx = db.transaction(['chunks', 'ledger']);
          const logs = IDBKeyRange.bound(['log', ''], ['log', '\uffff']);
          const q = tx.objectStore('chunks').getAll(logs);
          const o = tx.objectStore('ledger').getAll(logs);
          tx.oncomplete = () => {
            db.close();
            type Ledger = { pending: string[]; rejected: { id: string; code: string; message: string; at: string }[] };
            const ledgers = o.result as Ledger[];
            const pending = new Set(ledgers.flatMap((l) => l.pending));
            const rejected = new Map(ledgers.flatMap((l) => l.rejected.map((r) => [r.id, r] as const)));
            resolve(
              (q.result as { rows: Omit<StoredLog, 'synced'>[] }[])
                .flatMap((c) => c.rows)
                .map((r): StoredLog => {
                  const no = rejected.get(r.log.id);
                  if (no) return { ...r, synced: 2, rejection: { code: no.code, message: no.message, at: no.at } };
                  return { ...r, synced: pending.has(r.log.id) ? 0 : 1 };
                }),
            );
          };
          tx.onerror = () => reject(tx.error);
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
          const q = db
            .transaction('ledger')
            .objectStore('ledger')
            .getAll(IDBKeyRange.bound(['log', ''], ['log', '\uffff']));
          q.onsuccess = () => {
            db.close();
            resolve((q.result as { size: number }[]).reduce((n, l) => n + l.size, 0));
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

/**
 * The first `songs` catalogue songs scored in the page on backend `a` and then on `b` (named, not routed):
 * the largest |difference| over all their probabilities, how many values were compared and which backends ran.
 */
export async function compareBackends(
  page: Page,
  a: string,
  b: string,
  songs = 2000,
): Promise<{ worst: number; n: number; backends: string[] }> {
  const parsed = parseSongsCsv(readSharedDataFile('song-catalog.csv'));
  if (!parsed.ok) throw new Error(parsed.message);
  const xs = parsed.value.songs.slice(0, songs).flatMap((s) => toVector(s.features));
  return page.evaluate(
    async ({ xs, a, b }) => {
      type P = { ok: boolean; value: { outputs: Float32Array; backend: string } };
      const inf = (
        globalThis as unknown as {
          __jukebox: { inference: { predict(x: Float32Array, n: number, o: { backend: string }): Promise<P> } };
        }
      ).__jukebox.inference;
      const x = Float32Array.from(xs);
      const rows = x.length / 13;
      const first = await inf.predict(x, rows, { backend: a });
      const second = await inf.predict(x, rows, { backend: b });
      let worst = 0;
      for (let i = 0; i < first.value.outputs.length; i++) {
        worst = Math.max(worst, Math.abs(first.value.outputs[i]! - second.value.outputs[i]!));
      }
      return { worst, n: first.value.outputs.length, backends: [first.value.backend, second.value.backend] };
    },
    { xs, a, b },
  );
}

/** The catalogue search box. */
export const songSearch = (page: Page) => page.getByRole('combobox', { name: /Find a song/ });

/** Types `query` into the song search and opens the first result whose name matches `name`. */
export async function openSong(page: Page, query: string, name: RegExp): Promise<void> {
  await songSearch(page).fill(query);
  await page.getByRole('option', { name }).first().click();
}

/** Predicts from the form with the tempo changed and waits until the result says it was logged. */
export async function predictFromForm(page: Page, tempo: string): Promise<void> {
  await page.getByRole('button', { name: 'Predict', exact: true }).click();
  await page.locator('#f-tempo').fill(tempo);
  await page.getByRole('button', { name: 'Predict where it charts' }).click();
  await poll(() => page.getByTestId('result').textContent()).toContain('· logged');
}
