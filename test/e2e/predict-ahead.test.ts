/**
 * Predict as you edit: valid form values are computed in the worker in the
 * background, and pressing Predict shows that answer without another worker
 * round trip. Counted at the worker boundary (every 'predict' message the
 * page posts), and checked against a fresh computation of the same row.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toVector } from '../../model/contract/features.ts';
import { launchChromium } from './browser.ts';
import { poll, readLogs, waitReady } from './helpers.ts';
import { startTestServer, type TestServer } from './static-server.ts';

let server: TestServer;
let browser: Browser;
let page: Page;

// biome-ignore lint/suspicious/noExplicitAny: page globals are used loosely in page code.
type G = { __jukebox: any; __predicts: number };

/** 'predict' messages the page has posted to any worker so far. */
const predicts = () => page.evaluate(() => (globalThis as unknown as G).__predicts);

beforeAll(async () => {
  server = await startTestServer(0);
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript(() => {
    (globalThis as unknown as G).__predicts = 0;
    const post = Worker.prototype.postMessage;
    Worker.prototype.postMessage = function (this: Worker, msg: unknown, ...rest: never[]) {
      if ((msg as { type?: string })?.type === 'predict') (globalThis as unknown as G).__predicts++;
      return post.call(this, msg, ...rest);
    } as typeof post;
  });
  page = await context.newPage();
  page.setDefaultTimeout(30_000);
  await page.goto(server.url);
  await waitReady(page);
  // Let the once-per-device benchmark settle which backend serves single rows.
  await page.waitForFunction(() => (globalThis as unknown as G).__jukebox.inference.benchmark !== null);
  // And the one background scoring of the catalogue (per-country percentiles, issue 13) has run.
  await page.waitForFunction(() => (globalThis as unknown as G).__jukebox.percentiles !== null);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('predict as you edit', () => {
  it('computes edited values ahead, so Predict shows them without another worker call', async () => {
    await page.locator('#f-danceability').fill('0.77');
    await page.locator('#f-energy').fill('0.41');
    // Each valid edit is computed in the background; wait until they have all been sent.
    let sent = await predicts();
    await poll(async () => {
      const now = await predicts();
      const settled = now === sent;
      sent = now;
      return settled && now > 0;
    }).toBe(true);

    await page.getByTestId('predict').click();
    await poll(async () => (await readLogs(page)).length).toBe(1);
    expect(await predicts()).toBe(sent);

    const [log] = await readLogs(page);
    expect(log!.log.inputs.danceability).toBeCloseTo(0.77, 6);
    expect(log!.log.inputs.energy).toBeCloseTo(0.41, 6);
    // What was shown and logged is what the model gives for these values now, on the same backend.
    const fresh = await page.evaluate(
      async ({ inputs, backend }) => {
        const j = (globalThis as unknown as G).__jukebox;
        const r = await j.inference.predict(Float32Array.from(inputs), 1, { backend });
        return Array.from(r.value.outputs as Float32Array);
      },
      { inputs: Array.from(toVector(log!.log.inputs)), backend: log!.log.backend },
    );
    const worst = Math.max(...fresh.map((v, i) => Math.abs(v - log!.log.outputs[i]!)));
    expect(worst).toBeLessThan(1e-6);
  });

  it('computes on the click when nothing was computed ahead (the same values again)', async () => {
    const before = await predicts();
    await page.getByTestId('predict').click();
    await poll(async () => (await readLogs(page)).length).toBe(2);
    expect(await predicts()).toBe(before + 1);
  });

  it('computes nothing ahead for invalid values, and Predict shows the field error', async () => {
    const before = await predicts();
    await page.locator('#f-danceability').fill('1.5');
    await page.waitForTimeout(200);
    expect(await predicts()).toBe(before);
    await page.getByTestId('predict').click();
    await expect.poll(() => page.locator('#f-danceability').getAttribute('aria-invalid')).toBe('true');
    expect(await predicts()).toBe(before);
    expect((await readLogs(page)).length).toBe(2);
  });
});
