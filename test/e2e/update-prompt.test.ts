/**
 * A new deployment is offered with a prompt, never swapped in under the
 * user: the new service worker waits, the banner appears, its button is
 * disabled while a batch runs, and accepting reloads onto the new version.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './browser.ts';
import { screenshot, waitReady } from './helpers.ts';
import { startTestServer, type TestServer } from './static-server.ts';

let server: TestServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  server = await startTestServer(8623);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
  page.setDefaultTimeout(60_000);
  await page.goto(server.url);
  await waitReady(page, false);
  await page.evaluate(() => navigator.serviceWorker.ready);
  if (!(await page.evaluate(() => !!navigator.serviceWorker.controller))) await page.reload();
  await waitReady(page, false);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('update prompt', () => {
  it('offers a new version without swapping it in, and reloads onto it when accepted', async () => {
    const before = await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL);
    server.bumpServiceWorker();
    await page.evaluate(async () => {
      await (await navigator.serviceWorker.getRegistration())?.update();
    });
    const banner = page.locator('.update-banner');
    await banner.waitFor();
    expect(await banner.textContent()).toContain('A new version of Jukebox Edge is ready');
    // Still running the old worker: nothing was swapped in.
    const waiting = await page.evaluate(async () => !!(await navigator.serviceWorker.getRegistration())?.waiting);
    expect(waiting).toBe(true);
    // While a batch is running the update cannot be applied.
    await page.evaluate(() => {
      (globalThis as unknown as { __jukebox: { busy: boolean } }).__jukebox.busy = true;
    });
    expect(await banner.getByRole('button', { name: /after the batch/ }).isDisabled()).toBe(true);
    await screenshot(page, '11-update-prompt', false);
    await page.evaluate(() => {
      (globalThis as unknown as { __jukebox: { busy: boolean } }).__jukebox.busy = false;
    });
    await Promise.all([page.waitForEvent('load'), banner.getByRole('button', { name: 'Reload to update' }).click()]);
    await waitReady(page, false);
    expect(await page.locator('.update-banner').count()).toBe(0);
    const after = await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.waiting ?? null);
    expect(after).toBeNull();
    expect(before).toContain('/sw.js');
  });
});
