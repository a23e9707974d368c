/**
 * Cross-origin isolation, both ways. The product server sends COOP/COEP, so
 * the page is isolated and our kernel also runs on threads ('simd-threads'),
 * which must give the single-threaded kernel's outputs. (tfjs's threaded WASM
 * build once took the worker down on such a page: "_scriptDir is not
 * defined"; it must start, measure every backend and predict.) Behind a proxy
 * that drops the headers the page is not isolated: the threaded backend is
 * refused with its reason and everything else works.
 */
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toVector } from '../../model/contract/features.ts';
import { parseSongsCsv } from '../../web/src/lib/catalogue/catalogue-csv.ts';
import { launchChromium } from './browser.ts';
import { waitReady } from './helpers.ts';
import { CATALOGUE_CSV, startTestServer, type TestServer } from './static-server.ts';

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
    const parsed = parseSongsCsv(readFileSync(CATALOGUE_CSV, 'utf8'));
    if (!parsed.ok) throw new Error(parsed.message);
    const xs = parsed.value.songs.slice(0, 2000).flatMap((s) => toVector(s.features));
    const diff = await page.evaluate(async (xs) => {
      const inf = (globalThis as unknown as InferenceGlobal).__jukebox.inference;
      const x = Float32Array.from(xs);
      const rows = x.length / 13;
      const threads = await inf.predict(x, rows, { backend: 'simd-threads' });
      const single = await inf.predict(x, rows, { backend: 'simd' });
      let worst = 0;
      for (let i = 0; i < single.value.outputs.length; i++) {
        worst = Math.max(worst, Math.abs(threads.value.outputs[i]! - single.value.outputs[i]!));
      }
      return { worst, n: threads.value.outputs.length, backends: [threads.value.backend, single.value.backend] };
    }, xs);
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
