/**
 * The app behind a server or proxy that sends COOP/COEP, so the page is
 * cross-origin isolated. tfjs's threaded WASM build used to start there and
 * its pthread workers died in our minified bundle ("_scriptDir is not
 * defined"), taking the inference worker down with them: the app never
 * became ready. It must start, benchmark every backend and predict.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './browser.ts';
import { waitReady } from './helpers.ts';
import { startTestServer, type TestServer } from './static-server.ts';

let server: TestServer;
let browser: Browser;
let page: Page;
const errors: string[] = [];

beforeAll(async () => {
  server = await startTestServer(0);
  browser = await launchChromium();
  // Every response gets the isolation headers; service workers are blocked so that no response bypasses them.
  const context = await browser.newContext({ serviceWorkers: 'block' });
  await context.route('**/*', async (route) => {
    const response = await route.fetch();
    await route.fulfill({
      response,
      headers: {
        ...response.headers(),
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-embedder-policy': 'require-corp',
      },
    });
  });
  page = await context.newPage();
  page.setDefaultTimeout(60_000);
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(server.url);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('cross-origin isolated page (COOP/COEP)', () => {
  it('starts, measures every backend, and predicts with no worker errors', async () => {
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect((await waitReady(page, false)).status).toBe('ready');
    type J = { __jukebox: { inference: { benchmark: { timings: { backend: string }[] } | null } } };
    await page.waitForFunction(() => (globalThis as unknown as J).__jukebox.inference.benchmark !== null);
    const measured = await page.evaluate(() =>
      (globalThis as unknown as J).__jukebox.inference.benchmark!.timings.map((t) => t.backend),
    );
    // tfjs's WASM backend among them: it loaded (single-threaded) without killing the worker.
    expect(measured).toEqual(expect.arrayContaining(['simd', 'wasm', 'js', 'cpu']));
    await page.getByRole('button', { name: 'Predict where it charts' }).click();
    await page.getByTestId('result').waitFor();
    expect(errors).toEqual([]);
  });
});
