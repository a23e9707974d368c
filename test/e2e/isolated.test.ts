import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './browser.ts';
import { compareBackends, waitReady } from './helpers.ts';
import { startTestServer, type TestServer } from './static-server.ts';

interface InferenceGlobal {
  __jukebox: {
    inference: {
      benchmark: { timings: { backend: string; batchMsPerRow: number }[] } | null;
      failures: { backend: string; reason: string }[];
      predict(
        x: Float32Array,
        n: number,
        o?: { backend: string },
      ): Promise<{ ok: boolean; value: { outputs: Float32Array; backend: string } }>;
    };
  };
}

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

async function openApp(server: TestServer): Promise<{ page: Page; errors: string[] }> {
  // No service worker: every response comes from the server, headers and all.
  const context = await browser.newContext({ serviceWorkers: 'block' });
  const page = await context.newPage();
  page.setDefaultTimeout(60_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(server.url);
  return { page, errors };
}

describe('cross-origin isolated page (COOP/COEP, as the product serves it)', () => {
  let server: TestServer;
  let page: Page;
  let errors: string[];
  beforeAll(async () => {
    server = await startTestServer(0);
    ({ page, errors } = await openApp(server));
  });
  afterAll(async () => {
    await page?.context().close();
    await server?.close();
  });

  it('starts, measures every backend including the threaded kernel, and predicts with no worker errors', async () => {
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect((await waitReady(page, false)).status).toBe('ready');
    await page.waitForFunction(() => (globalThis as unknown as InferenceGlobal).__jukebox.inference.benchmark !== null);
    const measured = await page.evaluate(() =>
      (globalThis as unknown as InferenceGlobal).__jukebox.inference.benchmark!.timings.map((t) => t.backend),
    );
    // tfjs's WASM backend among them: it loaded (single-threaded) without killing the worker.
    expect(measured).toEqual(expect.arrayContaining(['simd', 'simd-threads', 'wasm', 'js', 'cpu']));
    await page.getByRole('button', { name: 'Predict where it charts' }).click();
    await page.getByTestId('result').waitFor();
    expect(errors).toEqual([]);
  });

  it('gives exactly the single-threaded kernel outputs on threads, for 2,000 catalogue songs', async () => {
    const diff = await compareBackends(page, 'simd-threads', 'simd');
    expect(diff.backends).toEqual(['simd-threads', 'simd']);
    expect(diff.n).toBe(2000 * 72);
    expect(diff.worst).toBe(0);
  });
});

describe('a page that is not cross-origin isolated (a proxy dropped COOP/COEP)', () => {
  it('refuses the threaded kernel with its reason, and predicts on the others', async () => {
    const server = await startTestServer(0, { isolated: false });
    const { page, errors } = await openApp(server);
    try {
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
      expect((await waitReady(page, false)).status).toBe('ready');
      await page.waitForFunction(
        () => (globalThis as unknown as InferenceGlobal).__jukebox.inference.benchmark !== null,
      );
      const { failures, measured } = await page.evaluate(() => {
        const inf = (globalThis as unknown as InferenceGlobal).__jukebox.inference;
        return { failures: inf.failures, measured: inf.benchmark!.timings.map((t) => t.backend) };
      });
      expect(failures.find((f) => f.backend === 'simd-threads')?.reason).toMatch(/cross-origin-isolated/);
      expect(measured).toEqual(expect.arrayContaining(['simd', 'wasm']));
      expect(measured).not.toContain('simd-threads');
      await page.getByRole('button', { name: 'Predict where it charts' }).click();
      await page.getByTestId('result').waitFor();
      expect(errors).toEqual([]);
    } finally {
      await page.context().close();
      await server.close();
    }
  });
});
