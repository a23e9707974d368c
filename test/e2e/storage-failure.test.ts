/**
 * When IndexedDB is unavailable (private mode, disabled storage) the app
 * still predicts, says so in words, and keeps the logs in memory instead of
 * losing them silently.
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
  server = await startTestServer(8624);
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  // As in a browser that refuses storage: no IndexedDB at all for the page.
  await context.addInitScript(() => {
    Object.defineProperty(globalThis, 'indexedDB', { get: () => undefined, configurable: true });
  });
  page = await context.newPage();
  page.setDefaultTimeout(60_000);
  await page.goto(server.url);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('storage unavailable', () => {
  it('predicts, shows the storage problem in words and keeps the logs in memory', async () => {
    const ready = await waitReady(page);
    expect(ready.status).toBe('ready');
    const banner = page.getByTestId('storage-error');
    expect(await banner.textContent()).toContain('Storage is unavailable');
    await page.getByTestId('predict').click();
    await page.getByTestId('result').waitFor();
    await expect.poll(() => page.getByTestId('result').textContent(), { timeout: 15_000 }).toContain('not saved yet');
    expect(await banner.textContent()).toContain('kept in memory');
    const unsaved = await page.evaluate(
      () => (globalThis as unknown as { __jukebox: { unsaved: number } }).__jukebox.unsaved,
    );
    expect(unsaved).toBe(1);
    await screenshot(page, '12-storage-unavailable', false);
    await page.getByRole('button', { name: 'History' }).click();
    expect(await page.getByTestId('history-counts').textContent()).toContain('1 not yet saved on the device');
  });
});
