/**
 * Quota: with a small storage quota, the app deletes synced logs, oldest first, and never an unsynced one; when
 * only unsynced logs are left and space is still short, it tells the user. The built app is served by the real
 * server (a child process), so the logs really are synced first. The small quota is injected into the app
 * (`sync.simulateQuota`): Chromium 156 accepts CDP `Storage.overrideQuotaForOrigin` but `estimate()` keeps
 * reporting the real quota, so the app could not see it. Usage is the browser's real figure.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrollmentCode, type ServerProcess, startServerProcess } from '../chaos/server-process.ts';
import { launchChromium } from './browser.ts';
import { poll, readLogs, screenshot, waitReady } from './helpers.ts';

let server: ServerProcess;
let browser: Browser;
let context: BrowserContext;
let page: Page;

interface QuotaGlobal {
  __jukebox?: {
    catalogue: { all(): { id: string; name: string; artists: string; features: unknown }[] } | null;
    predictAndLog(
      items: { inputs: unknown; source: string; songId?: string; label?: string }[],
    ): Promise<{ ok: true; saved: Promise<boolean> } | { ok: false; notice: { message: string } }>;
    sync: { pending: number; phase: string; storageLow: unknown; simulateQuota(bytes: number | null): Promise<void> };
  };
}

/** Scores `n` catalogue rows from `offset` as one batch (each row a logged prediction) and waits for the write. */
function scoreBatch(p: Page, offset: number, n: number): Promise<void> {
  return p.evaluate(
    async ({ offset, n }) => {
      const j = (globalThis as QuotaGlobal).__jukebox!;
      const rows = j.catalogue!.all().slice(offset, offset + n);
      const r = await j.predictAndLog(
        rows.map((s) => ({ inputs: s.features, source: 'batch', songId: s.id, label: `${s.name} — ${s.artists}` })),
      );
      if (!r.ok) throw new Error(r.notice.message);
      if (!(await r.saved)) throw new Error('not saved');
    },
    { offset, n },
  );
}

const usage = (p: Page) => p.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);
const split = async (p: Page) => {
  const logs = await readLogs(p);
  return {
    synced: logs.filter((l) => l.synced === 1).map((l) => l.log.id),
    unsynced: logs.filter((l) => l.synced === 0).map((l) => l.log.id),
  };
};

beforeAll(async () => {
  server = await startServerProcess();
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1024, height: 800 } });
  page = await context.newPage();
  page.setDefaultTimeout(30_000);
  await page.goto(`${server.url}/?enroll=${await enrollmentCode(server)}&syncBackoffMs=200-2000`);
  await waitReady(page);
  await page.waitForFunction(() => ((globalThis as QuotaGlobal).__jukebox?.catalogue?.all().length ?? 0) > 2000);
});

afterAll(async () => {
  await browser?.close();
  await server?.dispose();
});

describe('storage quota', () => {
  it('prunes synced logs (oldest first) under quota pressure and never an unsynced one; tells the user when low', async () => {
    // 1,500 predictions, synced; then 400 more made offline.
    await scoreBatch(page, 0, 1_500);
    await poll(async () => (await split(page)).synced.length, 60_000).toBe(1_500);
    const synced = (await split(page)).synced;
    expect(synced).toHaveLength(1_500);
    await context.setOffline(true);
    await scoreBatch(page, 1_500, 400);
    const unsynced = (await split(page)).unsynced;
    expect(unsynced).toHaveLength(400);

    // A quota the app is already at 90 % of: over the 80 % threshold.
    const quota = (bytes: number | null) =>
      page.evaluate((b) => (globalThis as QuotaGlobal).__jukebox!.sync.simulateQuota(b), bytes);
    await quota(Math.round((await usage(page)) / 0.9));
    await poll(async () => (await split(page)).synced.length, 20_000).toBeLessThan(1_500);
    const afterFirst = await split(page);
    // Only as many as needed: some synced logs stay.
    expect(afterFirst.synced.length).toBeGreaterThan(0);
    // Oldest synced went first: what is left of the synced logs is the newest ones, in order.
    expect(afterFirst.synced).toEqual(synced.slice(synced.length - afterFirst.synced.length));
    expect(afterFirst.unsynced).toEqual(unsynced);
    expect(await page.getByTestId('storage-low').count()).toBe(0);

    // A quota smaller than what the app already uses: every synced log goes, no unsynced one, and the user is told.
    await quota(Math.round((await usage(page)) / 2));
    // Checked again after the next prediction, as in the field.
    await scoreBatch(page, 1_900, 1);
    await poll(() => page.getByTestId('storage-low').textContent(), 20_000).toContain('almost full');
    const afterSecond = await split(page);
    expect(afterSecond.synced).toEqual([]);
    expect(afterSecond.unsynced).toHaveLength(401);
    expect(afterSecond.unsynced.slice(0, 400)).toEqual(unsynced);
    await page.getByRole('button', { name: 'History' }).click();
    await page.locator('tr[data-sync="pending"]').first().waitFor();
    await screenshot(page, 'sync-storage-low', false);

    // Back online with room again: the unsynced logs go up, and the warning goes once space is no longer short.
    await quota(null);
    await context.setOffline(false);
    await poll(async () => (await split(page)).unsynced.length, 60_000).toBe(0);
    await poll(() => page.getByTestId('storage-low').count()).toBe(0);
  });
});
