/**
 * Sync end to end: the built app served by the real server (a child process on a SQLite data dir). Enroll with a
 * bad code, then a good one; predict offline; record an outcome; come back online and watch the logs and the
 * outcome arrive on the server, a log the server refuses set aside with its reason, the state survive a closed
 * tab, a revoked token stop sync with "re-enroll", and a link `/?enroll=CODE` enroll a second device.
 * Screenshots of every sync state go to test/artifacts/screens/sync-*.png.
 */
import Database from 'better-sqlite3';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredLog } from '../../web/src/lib/storage/device-store.ts';
import { enrollmentCode, type ServerProcess, startServerProcess } from '../chaos/server-process.ts';
import { launchChromium } from './browser.ts';
import { poll, predictFromForm, readLogs, screenshot, waitReady } from './helpers.ts';

let server: ServerProcess;
let browser: Browser;
let context: BrowserContext;
let page: Page;

interface SyncGlobal {
  __jukebox?: {
    deviceId: string;
    sync: { phase: string; pending: number; rejected: number; lastSyncAt: string | null };
  };
}
const syncState = (p: Page) =>
  p.evaluate(() => {
    const j = (globalThis as SyncGlobal).__jukebox!;
    return { phase: j.sync.phase, pending: j.sync.pending, rejected: j.sync.rejected, lastSyncAt: j.sync.lastSyncAt };
  });

function serverCounts(deviceId: string): { logs: number; outcomes: number } {
  const db = new Database(server.sqlitePath, { readonly: true, fileMustExist: true });
  try {
    const logs = db.prepare('SELECT COUNT(*) AS n FROM logs WHERE device_id = ?').get(deviceId) as { n: number };
    const outcomes = db.prepare('SELECT COUNT(*) AS n FROM outcomes WHERE device_id = ?').get(deviceId) as {
      n: number;
    };
    return { logs: logs.n, outcomes: outcomes.n };
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  server = await startServerProcess();
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(30_000);
  // Short retry backoff: the test waits for retries rather than minutes.
  await page.goto(`${server.url}/?syncBackoffMs=200-2000`);
});

afterAll(async () => {
  await browser?.close();
  await server?.dispose();
});

describe('sync with the real server', () => {
  it('refuses a bad code in words, enrolls with a good one and then fetches the catalogue with the token', async () => {
    await waitReady(page);
    await poll(() => page.getByTestId('sync-phase').textContent()).toBe('Not enrolled');
    const panel = page.getByTestId('enroll-panel');
    await panel.getByLabel('Enrollment code').fill('ZZZZ-ZZZZ-ZZZZ');
    await panel.getByRole('button', { name: 'Enroll' }).click();
    await poll(() => page.getByTestId('enroll-error').textContent()).toContain('unknown, used or expired');
    await screenshot(page, 'sync-enroll-bad-code', false);

    // This server has no label key configured; one that has returns it at enrollment: the device must pin it.
    const labelKey = {
      kty: 'EC',
      crv: 'P-256',
      x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
      y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
    };
    await page.route('**/api/v1/enroll', async (route) => {
      const res = await route.fetch();
      const body = (await res.json()) as Record<string, unknown>;
      await route.fulfill({ response: res, json: res.status() === 201 ? { ...body, publicKey: labelKey } : body });
    });
    const code = await enrollmentCode(server);
    await panel.getByLabel('Enrollment code').fill(code.toLowerCase());
    await panel.getByRole('button', { name: 'Enroll' }).click();
    await page.getByTestId('enroll-panel').waitFor({ state: 'detached' });
    await page.unroute('**/api/v1/enroll');
    const pinned = await page.evaluate(
      () =>
        new Promise<unknown>((resolve, reject) => {
          const open = indexedDB.open('jukebox-edge');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const q = open.result.transaction('settings').objectStore('settings').get('label-public-key');
            q.onsuccess = () => {
              open.result.close();
              resolve(q.result);
            };
          };
        }),
    );
    expect(pinned).toEqual(labelKey);
    await poll(() => page.getByTestId('sync-last').textContent()).toMatch(/Synced|Never synced/);
    // The catalogue needs a device token on the real server: it arrives once enrolled.
    await poll(() =>
      page.evaluate(() => (globalThis as { __jukebox?: { catalogueStatus: string } }).__jukebox?.catalogueStatus),
    ).toBe('ready');
    const devices = (await (await server.admin('/api/v1/admin/devices')).json()) as { devices: { id: string }[] };
    const deviceId = await page.evaluate(() => (globalThis as SyncGlobal).__jukebox!.deviceId);
    expect(devices.devices.map((d) => d.id)).toContain(deviceId);
  });

  it('keeps predictions made offline pending, then uploads them when back online; a refused one is set aside', async () => {
    const deviceId = await page.evaluate(() => (globalThis as SyncGlobal).__jukebox!.deviceId);
    await context.setOffline(true);
    await poll(() => page.getByTestId('online').textContent()).toBe('Offline');
    await predictFromForm(page, '118');
    await predictFromForm(page, '126');
    await poll(async () => (await syncState(page)).pending).toBe(2);
    expect(await page.getByTestId('sync-pending').textContent()).toContain('2 pending');

    // A log for a model version the server does not know: the server refuses it with a code.
    const logs = await readLogs(page);
    const template = logs[0]!.log;
    const foreign = { ...template, id: uuidv7(), modelVersion: 'v000unknown01' };
    await page.evaluate(
      (row) =>
        new Promise<void>((resolve, reject) => {
          const open = indexedDB.open('jukebox-edge');
          open.onsuccess = () => {
            // A pending log: a chunk of one row, and its ledger listing the id as pending.
            const tx = open.result.transaction(['chunks', 'ledger'], 'readwrite');
            const id = row.log.id;
            tx.objectStore('chunks').add({ rows: [row] }, ['log', id]);
            const ledger = { lo: id, hi: id, size: 1, oldest: row.log.createdAt, pending: [id], rejected: [] };
            tx.objectStore('ledger').add(ledger, ['log', id]);
            tx.oncomplete = () => {
              open.result.close();
              resolve();
            };
            tx.onerror = () => reject(tx.error);
          };
          open.onerror = () => reject(open.error);
        }),
      { log: foreign, label: 'Injected: unknown model version' } satisfies Omit<StoredLog, 'synced'>,
    );

    // An outcome recorded from the history, offline.
    await page.getByRole('button', { name: 'History' }).click();
    await page.locator(`tr[data-log-id="${template.id}"]`).getByRole('button', { name: 'Record outcome' }).click();
    const form = page.getByTestId('outcome-form');
    await form.getByLabel('Did not chart').check();
    await form.locator('select[name=country]').selectOption('GB');
    await form.getByRole('button', { name: 'Save outcome' }).click();
    await poll(() => page.locator(`tr[data-log-id="${template.id}"] .outcome`).textContent()).toContain(
      // Country names, not ISO codes (issue 13).
      'did not chart in United Kingdom',
    );
    await page.evaluate(() =>
      (globalThis as { __jukebox?: { sync: { refreshCounts(): Promise<void> } } }).__jukebox!.sync.refreshCounts(),
    );
    await poll(async () => (await syncState(page)).pending).toBe(4);
    await poll(() => page.getByTestId('sync-card').getAttribute('data-phase')).toBe('offline');
    expect(await page.locator('tr[data-sync="pending"]').count()).toBe(3);
    await screenshot(page, 'sync-offline-pending');

    await context.setOffline(false);
    await poll(async () => (await syncState(page)).pending, 30_000).toBe(0);
    expect((await syncState(page)).rejected).toBe(1);
    expect(serverCounts(deviceId)).toEqual({ logs: 2, outcomes: 1 });
    const rejectedRow = page.locator(`tr[data-log-id="${foreign.id}"]`);
    await poll(() => rejectedRow.getAttribute('data-sync')).toBe('rejected');
    expect(await rejectedRow.textContent()).toContain('is not in the registry');
    await poll(() => page.locator('tr[data-sync="synced"]').count()).toBe(2);
    // The outcome goes up in its own request after the logs: wait for it rather than read it once.
    await poll(() => page.locator(`tr[data-log-id="${template.id}"] .outcome`).textContent()).toContain('synced');
    expect(await page.getByTestId('sync-last').textContent()).toMatch(/^\s*Synced \d/);
    await screenshot(page, 'sync-synced-and-rejected');

    // Sync now with nothing to send: nothing new on the server, the rejected log is not sent again.
    await page.getByRole('button', { name: 'Sync now' }).click();
    await poll(() => page.getByTestId('sync-card').getAttribute('data-phase')).toBe('idle');
    expect(serverCounts(deviceId)).toEqual({ logs: 2, outcomes: 1 });
    const stored = await readLogs(page);
    expect(stored.filter((l) => l.synced === 2).map((l) => l.rejection?.code)).toEqual(['unknown-model-version']);
  });

  it('keeps its state when the tab is closed and reopened', async () => {
    const before = await syncState(page);
    // Reopened offline (the service worker serves the app), so no pass can run and change what was kept.
    await page.evaluate(() => navigator.serviceWorker.ready);
    await page.close();
    await context.setOffline(true);
    page = await context.newPage();
    page.setDefaultTimeout(30_000);
    await page.goto(`${server.url}/?syncBackoffMs=200-2000`);
    await waitReady(page, false);
    await poll(async () => (await syncState(page)).phase).toBe('offline');
    const after = await syncState(page);
    expect(after.lastSyncAt).toBe(before.lastSyncAt);
    expect(after.rejected).toBe(1);
    expect(after.pending).toBe(0);
    expect(await page.getByTestId('sync-last').textContent()).toMatch(/Synced \d/);
    await context.setOffline(false);
    await poll(async () => (await syncState(page)).phase).toBe('idle');
  });

  it('stops on a revoked token and asks to re-enroll; once restored, a code for it resumes and uploads what waited', async () => {
    const deviceId = await page.evaluate(() => (globalThis as SyncGlobal).__jukebox!.deviceId);
    const r = await server.admin(`/api/v1/admin/devices/${deviceId}/revoke`, { method: 'POST' });
    expect(r.status).toBe(200);
    await predictFromForm(page, '131');
    await poll(() => page.getByTestId('sync-phase').textContent(), 30_000).toBe('Re-enroll to sync');
    expect((await syncState(page)).pending).toBe(1);
    await page.getByRole('button', { name: 'History' }).click();
    await screenshot(page, 'sync-reenroll', false);
    const panel = page.getByTestId('enroll-panel');
    // A revoked device enrolls again only after an admin restores it, with a code issued for it (issue 12).
    expect((await server.admin(`/api/v1/admin/devices/${deviceId}/restore`, { method: 'POST' })).status).toBe(200);
    await panel.getByLabel('Enrollment code').fill(await enrollmentCode(server, deviceId));
    await panel.getByRole('button', { name: 'Enroll' }).click();
    await poll(async () => (await syncState(page)).pending, 30_000).toBe(0);
    expect(serverCounts(deviceId).logs).toBe(3);
  });

  it('enrolls from a link on a second device, and the history reads well on a phone', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const p = await phone.newPage();
    p.setDefaultTimeout(30_000);
    const code = await enrollmentCode(server);
    await p.goto(`${server.url}/?enroll=${code}&syncBackoffMs=200-2000`);
    await waitReady(p);
    await poll(async () => (await syncState(p)).phase).toBe('idle');
    expect(new URL(p.url()).searchParams.get('enroll')).toBeNull();
    await predictFromForm(p, '121');
    await poll(async () => (await syncState(p)).pending, 30_000).toBe(0);
    await p.getByRole('button', { name: 'History' }).click();
    await p.locator('tr[data-sync="synced"]').first().waitFor();
    await screenshot(p, 'sync-phone-history');
    // The same link again: the code is spent, the device says so instead of failing silently.
    const other = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const q = await other.newPage();
    await q.goto(`${server.url}/?enroll=${code}`);
    await poll(() => q.getByTestId('enroll-error').textContent()).toContain('unknown, used or expired');
    await screenshot(q, 'sync-link-code-used', false);
    await other.close();
    await phone.close();
  });
});
