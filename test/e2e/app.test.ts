/**
 * End to end, in headless Chromium against the built app: predict from the
 * form, from a catalogue song and in batch; field errors; explain; history;
 * offline cold reload; phone width. Screenshots go to test/artifacts/screens.
 */
import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COUNTRY_CODES } from '../../model/contract/countries.ts';
import { BACKENDS, PredictionLogSchema } from '../../model/contract/prediction-log.ts';
import { readSharedDataFile } from '../../model/shared-data.ts';
import { launchChromium } from './browser.ts';
import { compareBackends, logCount, openSong, poll, readLogs, screenshot, songSearch, waitReady } from './helpers.ts';
import { startTestServer, type TestServer } from './static-server.ts';

let server: TestServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;

const submit = () => page.getByRole('button', { name: 'Predict where it charts' }).click();

beforeAll(async () => {
  server = await startTestServer(8621);
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  page = await context.newPage();
  page.setDefaultTimeout(30_000);
  await page.goto(server.url);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('Jukebox Edge PWA', () => {
  it('starts on a backend and predicts from the form, showing map + ranked list, and logs it', async () => {
    const ready = await waitReady(page);
    expect(ready.status).toBe('ready');
    // Headless Chromium has WebAssembly SIMD and no GPU here: our SIMD kernel is the first backend that works.
    expect(ready.single).toBe('simd');
    await poll(() => page.getByTestId('backend').textContent()).toMatch(/simd|wasm|js|cpu/);
    await screenshot(page, '01-predict-form');

    await page.locator('#f-duration_ms').fill('3:30');
    await page.locator('#f-danceability').fill('0.81');
    await page.locator('#f-tempo').fill('124');
    await submit();
    const result = page.getByTestId('result');
    await result.waitFor();
    expect(await result.textContent()).toContain('Your song');
    await poll(() => result.textContent()).toContain('· logged');
    await page.getByRole('button', { name: /Show all 72 countries/ }).click();
    expect(await page.locator('.ranked-list li').count()).toBe(72);
    expect(await page.locator('.ranked-list li.top').count()).toBe(5);
    // Map: a shape per country the 1:110m atlas has, plus markers for the tiny ones.
    expect(await page.locator('.world-map [data-country]').count()).toBeGreaterThanOrEqual(69);
    expect(await page.locator('.legend .legend-item').count()).toBeGreaterThanOrEqual(6);
    await screenshot(page, '02-result-map-ranked');

    const logs = await readLogs(page);
    expect(logs.length).toBe(1);
    const log = logs[0]!;
    expect(PredictionLogSchema.safeParse(log.log).success).toBe(true);
    expect(log.synced).toBe(0);
    // The once-per-device benchmark may move single rows to another backend meanwhile: the log says which ran.
    expect(log.log.source).toBe('form');
    // Any backend but WebGPU (this browser has none): the per-device benchmark picks the cheapest for one row.
    expect(BACKENDS.filter((b) => b !== 'webgpu')).toContain(log.log.backend);
    expect(await result.textContent()).toContain(`on ${log.log.backend}`);
    expect(log.log.inputs.duration_ms).toBe(210_000);
    expect(log.log.inputs.danceability).toBeCloseTo(0.81, 6);
    expect(log.log.outputs).toHaveLength(COUNTRY_CODES.length);
    expect(log.log.songId).toBeUndefined();
    expect(log.log.modelVersion).toMatch(/^v/);
  });

  it('shows invalid inputs at their fields, in words, and never runs the model on them', async () => {
    const before = await logCount(page);
    await page.locator('#f-danceability').fill('1.4');
    await page.locator('#f-duration_ms').fill('three minutes');
    await page.locator('#f-tempo').fill('');
    // A decimal comma is fine now (issue 13); two decimal separators are not.
    await page.locator('#f-loudness').fill('-5,2.1');
    await submit();
    expect(await page.getByTestId('stale').textContent()).toContain('4 fields need fixing');
    const err = (f: string) => page.locator(`[data-field="${f}"] .error`).textContent();
    expect(await err('danceability')).toContain('outside the valid range');
    expect(await err('danceability')).toContain('0 to 1');
    expect(await err('duration_ms')).toContain('Write the duration as m:ss');
    expect(await err('tempo')).toContain('A value is required');
    expect(await err('loudness')).toContain('Must be a number');
    expect(await page.locator('[data-field="energy"] .error').count()).toBe(0);
    // Focus lands on the first field in error.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('f-duration_ms');
    await screenshot(page, '03-field-errors');
    expect(await logCount(page)).toBe(before);
    expect((await readLogs(page)).length).toBe(before);
  });

  it('searches the catalogue as you type, prefills the form from a song and logs its id', async () => {
    const search = songSearch(page);
    await search.fill('blinding lig');
    const option = page.getByRole('option', { name: /Blinding Lights/ }).first();
    await option.waitFor();
    await option.click();
    await poll(() => page.getByTestId('result').textContent()).toContain('Blinding Lights');
    await poll(() => page.getByTestId('result').textContent()).toContain('· logged');
    expect(await page.locator('#f-tempo').inputValue()).toBe('171.005');
    expect(await page.locator('[data-field] .error').count()).toBe(0);
    const logs = await readLogs(page);
    const last = logs.sort((a, b) => a.log.id.localeCompare(b.log.id)).at(-1)!;
    expect(last.log).toMatchObject({ source: 'catalogue', songId: '0VjIjW4GlUZAMYd2vXMi3b' });
    expect(last.label).toContain('The Weeknd');
    // Artist search, accents folded: "cassö" matches "casso".
    await search.fill('casso raye');
    await page.getByRole('option', { name: /Prada/ }).first().waitFor();
    await page.keyboard.press('Escape');
  });

  it('explains the chosen country and searches a counterfactual', async () => {
    const explain = page.locator('.explain');
    await explain.locator('.attributions li').first().waitFor();
    expect(await explain.locator('.attributions li').count()).toBe(13);
    // The map is one tab stop; arrow keys walk the countries in rank order and select them.
    const focusable = page.locator('.world-map [tabindex="0"]');
    expect(await focusable.count()).toBe(1);
    const secondName = (await page.locator('.ranked-list li').nth(1).locator('.name').textContent())!;
    await focusable.focus();
    await page.keyboard.press('ArrowRight');
    await poll(() => explain.locator('h2').textContent()).toContain(secondName);
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-pressed'))).toBe('true');
    // Pick the least likely country from the full list: far below 30%.
    const lastRow = page.locator('.ranked-list li').last();
    const code = await lastRow.getAttribute('data-country');
    await lastRow.getByRole('button').click();
    await explain.locator('.attributions li').first().waitFor();
    await explain.getByRole('button', { name: /Find the smallest change/ }).click();
    await poll(
      async () =>
        (await explain.locator('.changes li').count()) + (await explain.locator('.counterfactual-none').count()),
      30_000,
    ).toBeGreaterThan(0);
    expect(code).toMatch(/^[A-Z]{2}$/);
    await explain.scrollIntoViewIfNeeded();
    await screenshot(page, '04-explain');
  });

  it('scores an uploaded CSV, reports bad rows, and offers the results as CSV', async () => {
    await page.getByRole('button', { name: 'Batch' }).click();
    const before = await logCount(page);
    const header = readSharedDataFile('song-catalog.csv').split('\n').slice(0, 4);
    const bad1 = header[1]!.replace(',0.638,', ',1.638,'); // danceability out of range
    const bad2 = header[2]!.replace(/,222369,/, ',,'); // duration missing
    const csv = [
      header[0],
      header[1],
      bad1.replace('59NraMJsLaMCVtwXTSia8i', 'badrow1'),
      header[2],
      bad2.replace('6wf7Yu7cxBSPrRlWeSeK0Q', 'badrow2'),
      header[3],
    ].join('\n');
    await page
      .getByTestId('batch-file')
      .setInputFiles({ name: 'songs.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.locator('.batch-result').waitFor();
    expect(await page.locator('.bad-rows summary').textContent()).toContain('2 rows could not be scored');
    const badText = await page.locator('.bad-rows').textContent();
    expect(badText).toContain('Danceability: Is outside the valid range.');
    expect(badText).toContain('Duration: A value is required.');
    expect(await page.locator('.batch-result').textContent()).toMatch(/3\s+songs/);
    await screenshot(page, '05-batch-csv');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: /Download results/ }).click(),
    ]);
    const text = readFileSync((await download.path())!, 'utf8')
      .trim()
      .split(/\r?\n/);
    expect(text[0]).toContain('song_id,name,artists,top_countries,p_AE');
    expect(text).toHaveLength(4);
    expect(text[0]!.split(',')).toHaveLength(4 + 72);
    await poll(() => logCount(page)).toBe(before + 3);
    const batchLogs = (await readLogs(page)).filter((l) => l.log.source === 'batch');
    const goodIds = header.slice(1, 4).map((l) => l.split(',')[0]!.replaceAll('"', ''));
    expect(batchLogs.map((l) => l.log.songId).sort()).toEqual(goodIds.sort());
  });

  it('scores the whole catalogue on the device with progress, logging every song', async () => {
    const before = await logCount(page);
    await page.getByRole('button', { name: 'Score the whole catalogue' }).click();
    await page
      .locator('.progress')
      .waitFor({ timeout: 10_000 })
      .catch(() => undefined);
    await page
      .locator('.batch-result')
      .getByText(/from the whole catalogue/)
      .waitFor({ timeout: 180_000 });
    const size = await page.evaluate(
      () => (globalThis as { __jukebox?: { catalogue: { size: number } } }).__jukebox!.catalogue.size,
    );
    expect(size).toBeGreaterThan(14_000);
    expect(await page.locator('.batch-result').textContent()).toContain(size.toLocaleString('en'));
    await poll(() => logCount(page), 60_000).toBe(before + size);
    await screenshot(page, '06-batch-catalogue', false);
  });

  it('lists the history newest first, filters by song and country, and shows what is unsynced', async () => {
    await page.getByRole('button', { name: 'History' }).click();
    await page.locator('.history-table tbody tr').first().waitFor();
    expect(await page.getByTestId('history-counts').textContent()).toMatch(/not yet synced/);
    const first = await page.locator('.history-table tbody tr').first().getAttribute('data-log-id');
    const second = await page.locator('.history-table tbody tr').nth(1).getAttribute('data-log-id');
    expect(first! > second!).toBe(true);
    expect(await page.locator('.badge.wait').count()).toBeGreaterThan(0);
    await page.getByLabel('Filter by song').fill('Blinding Lights');
    const songCells = () => page.locator('.history-table tbody tr td:nth-child(2)').allTextContents();
    // Filters scan every stored log (14k+ after the catalogue batch): allow a loaded machine some time.
    await poll(async () => (await songCells()).every((r) => r.includes('Blinding Lights'))).toBe(true);
    // The form prediction from the catalogue and the whole-catalogue batch both scored it.
    expect((await songCells()).length).toBeGreaterThanOrEqual(2);
    await page.getByLabel('Filter by song').fill('');
    await page.getByLabel('Country in top 5').selectOption('BR');
    await poll(() => page.locator('.history-table tbody tr').first().locator('.chip.hl').count()).toBe(1);
    await screenshot(page, '07-history', false);
    await page.getByLabel('Country in top 5').selectOption('');
  });

  it('loads and predicts offline after a cold reload (service worker + IndexedDB catalogue)', async () => {
    await page.goto(server.url);
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    // First load installs the worker; a reload puts the page under its control.
    if (!(await page.evaluate(() => !!navigator.serviceWorker.controller))) await page.reload();
    await poll(() => page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);
    await waitReady(page);
    const hits = server.catalogueHits();
    await context.setOffline(true);
    await page.reload();
    const ready = await waitReady(page);
    expect(ready.status).toBe('ready');
    expect(await page.getByTestId('online').textContent()).toBe('Offline');
    expect(server.catalogueHits()).toBe(hits);
    // Served from the precache with the isolation headers it was fetched with: the threaded kernel works offline.
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    const threaded = await page.evaluate(async () => {
      type P = { ok: boolean; value: { backend: string } };
      const inf = (globalThis as unknown as { __jukebox: { inference: { predict(...a: unknown[]): Promise<P> } } })
        .__jukebox.inference;
      const r = await inf.predict(new Float32Array(256 * 13).fill(0.5), 256, { backend: 'simd-threads' });
      return r.ok ? r.value.backend : 'failed';
    });
    expect(threaded).toBe('simd-threads');
    const before = await logCount(page);
    await openSong(page, 'flowers miley', /Flowers/);
    await poll(() => page.getByTestId('result').textContent()).toContain('Flowers');
    await poll(() => logCount(page)).toBe(before + 1);
    await screenshot(page, '08-offline');
    await context.setOffline(false);
  });

  it('does not leak tensors in the worker over many predictions on tfjs', async () => {
    const leak = await page.evaluate(async () => {
      type R = { ok: boolean; value: { numTensors: number } };
      type P = (x: Float32Array, rows: number, o: { backend: string }) => Promise<{ ok: boolean }>;
      const inf = (globalThis as unknown as { __jukebox: { inference: { memory(): Promise<R>; predict: P } } })
        .__jukebox.inference;
      const x = new Float32Array(13).fill(0.5);
      x[1] = 200000;
      x[12] = 120;
      // Our own kernels hold no tensors: pin tfjs's WASM backend, the one that could leak.
      const wasm = { backend: 'wasm' };
      if (!(await inf.predict(x, 1, wasm)).ok) return null;
      const before = (await inf.memory()).value.numTensors;
      for (let i = 0; i < 50; i++) await inf.predict(x, 1, wasm);
      const big = new Float32Array(3000 * 13);
      for (let r = 0; r < 3000; r++) big.set(x, r * 13);
      await inf.predict(big, 3000, wasm);
      return { before, after: (await inf.memory()).value.numTensors };
    });
    expect(leak).not.toBeNull();
    expect(leak!.before).toBeGreaterThan(0);
    expect(leak!.after).toBe(leak!.before);
  });

  it('gives the same probabilities on our SIMD kernel as on tfjs WASM, for 2,000 catalogue songs', async () => {
    const diff = await compareBackends(page, 'simd', 'wasm');
    expect(diff.backends).toEqual(['simd', 'wasm']);
    expect(diff.n).toBe(2000 * 72);
    expect(diff.worst).toBeLessThan(1e-5);
  });

  it('is readable at phone width (375 px)', async () => {
    const phone = await context.newPage();
    await phone.setViewportSize({ width: 375, height: 812 });
    await phone.goto(server.url);
    await waitReady(phone);
    await phone.getByRole('button', { name: 'Predict where it charts' }).click();
    await phone.getByTestId('result').waitFor();
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(phone, '09-phone');
    await phone.getByTestId('result').scrollIntoViewIfNeeded();
    await screenshot(phone, '10-phone-result', false);
    await phone.close();
  });
});
