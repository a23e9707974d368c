/**
 * What a field marketer needs to act on an answer, on a 390×844 phone and a laptop: locale-proof input
 * (decimal comma, Unicode minus, durations read and echoed), each probability against what is typical for its
 * country, counterfactuals toward a goal the user picks that stay inside the manifest's bounds of real
 * charting songs, and a phone map that zooms so a small European country can be tapped.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FEATURE_NAMES } from '../../model/contract/features.ts';
import { type Manifest, ManifestSchema } from '../../model/contract/manifest.ts';
import { launchChromium } from './browser.ts';
import { openSong, poll, readLogs, screenshot, songSearch, waitReady } from './helpers.ts';
import { startTestServer, type TestServer } from './static-server.ts';

const manifest: Manifest = ManifestSchema.parse(
  JSON.parse(readFileSync(resolve(import.meta.dirname, '../../public/models/default/manifest.json'), 'utf8')),
);

let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  server = await startTestServer(8641);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function open(viewport: { width: number; height: number }, query = ''): Promise<Page> {
  const context = await browser.newContext({
    viewport,
    hasTouch: viewport.width < 600,
    isMobile: viewport.width < 600,
  });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  await page.goto(`${server.url}/${query}`);
  await waitReady(page);
  return page;
}

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };

describe('locale-proof input', () => {
  it('accepts a decimal comma and a Unicode minus, and reads a duration of 3.5 as 3:30, never 3.5 s', async () => {
    const page = await open(PHONE);
    await page.locator('#f-danceability').fill('0,5');
    await page.locator('#f-loudness').fill('−6');
    await page.locator('#f-duration_ms').fill('3.5');
    // The slider follows the comma value instead of jumping to 0.
    expect(await page.locator('[data-field="danceability"] input[type="range"]').inputValue()).toBe('0.5');
    await poll(() => page.getByTestId('duration-echo').textContent()).toBe('3.5 → 3:30 (read as minutes)');
    await screenshot(page, 'marketer-01-phone-input-echo', false);
    await page.getByRole('button', { name: 'Predict where it charts' }).click();
    await page.getByTestId('result').waitFor();
    expect(await page.locator('[data-field] .error').count()).toBe(0);
    await poll(async () => (await readLogs(page)).length).toBe(1);
    const log = (await readLogs(page))[0]!.log;
    expect(log.inputs.duration_ms).toBe(210_000);
    expect(log.inputs.danceability).toBe(0.5);
    expect(log.inputs.loudness).toBe(-6);
    // Milliseconds, the data's own unit, are read as such and echoed too.
    await page.locator('#f-duration_ms').fill('200000');
    await poll(() => page.getByTestId('duration-echo').textContent()).toBe('200000 → 3:20 (read as milliseconds)');
    await page.context().close();
  });

  it('reads feature values from the address with the same parser', async () => {
    const page = await open(DESKTOP, '?danceability=0,71&loudness=%E2%88%925,5&duration_ms=3:07');
    expect(await page.locator('#f-danceability').inputValue()).toBe('0,71');
    await page.getByRole('button', { name: 'Predict where it charts' }).click();
    await poll(async () => (await readLogs(page)).length).toBe(1);
    const log = (await readLogs(page))[0]!.log;
    expect([log.inputs.danceability, log.inputs.loudness, log.inputs.duration_ms]).toEqual([0.71, -5.5, 187_000]);
    await page.context().close();
  });
});

describe('relative answers and counterfactual goals', () => {
  it('shows each country against what is typical there, marks weak countries and reaches a chosen goal within bounds', async () => {
    const page = await open(DESKTOP);
    await openSong(page, 'Flowers Miley', /Flowers/);
    const result = page.getByTestId('result');
    await poll(() => result.textContent()).toContain('Flowers');
    // The catalogue is scored once in the background: then every row says lift and percentile.
    await page.waitForFunction(() => (globalThis as { __jukebox?: { percentiles: unknown } }).__jukebox?.percentiles);
    await poll(() => page.locator('.ranked-list li').first().locator('.rel').textContent()).toMatch(
      /×\d+(\.\d)? · top \d+%/,
    );
    expect(await page.getByTestId('reading-guide').textContent()).toMatch(/twice as likely as a typical\s+song/);
    const weakCountries = Object.entries(manifest.countryFacts!.byCountry)
      .filter(([, f]) => f.auc === null || f.auc < 0.6)
      .map(([c]) => c);
    expect(weakCountries.length).toBeGreaterThan(0);
    await page.getByRole('button', { name: /Show all 72 countries/ }).click();
    await poll(() => page.locator('.ranked-list li').count()).toBe(72);
    await poll(() => page.locator('.ranked-list li .weak-tag:not([hidden])').count()).toBe(weakCountries.length);
    for (const c of weakCountries) {
      expect(await page.locator(`.ranked-list li[data-country="${c}"] .weak-tag`).isVisible(), c).toBe(true);
    }
    const strong = Object.entries(manifest.countryFacts!.byCountry).find(([, f]) => (f.auc ?? 0) > 0.8)![0];
    expect(await page.locator(`.ranked-list li[data-country="${strong}"] .weak-tag`).isVisible()).toBe(false);
    // The map is coloured by the relative score: more than one colour for a global hit.
    const fills = await page
      .locator('.world-map path.country')
      .evaluateAll((els) => new Set(els.map((e) => e.getAttribute('fill'))).size);
    expect(fills).toBeGreaterThan(2);
    await screenshot(page, 'marketer-02-relative-desktop');

    // Counterfactual toward the country's top 10%, for a country where the song is far from it (the last row):
    // every changed value inside the stored bounds.
    const explain = page.locator('.explain');
    const last = page.locator('.ranked-list li').last();
    const lastName = (await last.locator('.name').textContent())!;
    await last.getByRole('button').click();
    await poll(() => explain.locator('h2').textContent()).toContain(lastName);
    await explain.getByTestId('country-reading').waitFor();
    expect(await explain.getByTestId('country-reading').textContent()).toMatch(/AUC 0\.\d\d/);
    const goal = explain.getByTestId('cf-goal');
    const options = await goal.locator('option').allTextContents();
    expect(options.some((o) => /Top 10% of catalogue songs/.test(o))).toBe(true);
    await goal.selectOption({ label: options.find((o) => /Top 10%/.test(o))! });
    await explain.getByRole('button', { name: /Find the smallest change/ }).click();
    const cf = explain.getByTestId('cf-result');
    await cf.waitFor({ timeout: 60_000 });
    const target = Number(await cf.getAttribute('data-target'));
    const reached = Number(await cf.getAttribute('data-probability'));
    const found = (await cf.getAttribute('class'))?.includes('counterfactual-none') !== true;
    if (found) expect(reached).toBeGreaterThanOrEqual(target);
    else expect(await cf.textContent()).toMatch(/best reachable is|No change found/);
    const changes = await explain.locator('.changes li').evaluateAll((els) =>
      els.map((e) => ({
        feature: e.getAttribute('data-feature')!,
        to: Number(e.getAttribute('data-to')),
        text: e.textContent,
      })),
    );
    expect(changes.length).toBeGreaterThan(0);
    for (const c of changes) {
      const b = manifest.featureBounds!.byFeature[c.feature as (typeof FEATURE_NAMES)[number]];
      expect(c.to, c.feature).toBeGreaterThanOrEqual(Math.floor(b.low));
      expect(c.to, c.feature).toBeLessThanOrEqual(Math.ceil(b.high));
      expect(c.text).toMatch(/→|key/);
    }
    await explain.scrollIntoViewIfNeeded();
    await screenshot(page, 'marketer-03-counterfactual-desktop', false);
    await page.context().close();
  });
});

describe('phone-first result', () => {
  it('zooms the map so a tap on the Netherlands (24 px or more) selects it and shows its detail in view', async () => {
    const page = await open(PHONE);
    await page.getByRole('button', { name: 'Predict where it charts' }).click();
    await page.getByTestId('result').waitFor();
    const nl = page.locator('.world-map path[data-country="NL"]');
    await nl.scrollIntoViewIfNeeded();
    const before = (await nl.boundingBox())!;
    // At the world view the Netherlands is a few pixels: too small to tap.
    expect(Math.min(before.width, before.height)).toBeLessThan(24);
    await page.getByTestId('zoom-europe').tap();
    await poll(async () => {
      const b = (await nl.boundingBox())!;
      return Math.min(b.width, b.height);
    }).toBeGreaterThanOrEqual(24);
    const box = (await nl.boundingBox())!;
    // Tap inside the shape (its bounding box centre may be sea for a concave coastline: use elementFromPoint).
    const point = await page.evaluate(
      ({ x, y, w, h }) => {
        for (let dy = 0.3; dy <= 0.7; dy += 0.1)
          for (let dx = 0.3; dx <= 0.7; dx += 0.1) {
            const px = x + w * dx;
            const py = y + h * dy;
            if ((document.elementFromPoint(px, py) as Element | null)?.getAttribute('data-country') === 'NL')
              return { px, py };
          }
        return null;
      },
      { x: box.x, y: box.y, w: box.width, h: box.height },
    );
    expect(point).not.toBeNull();
    await page.touchscreen.tap(point!.px, point!.py);
    const detail = page.getByTestId('selected-detail');
    await poll(() => detail.textContent()).toContain('Netherlands');
    const d = (await detail.boundingBox())!;
    expect(d.y).toBeGreaterThanOrEqual(0);
    expect(d.y + d.height).toBeLessThanOrEqual(PHONE.height);
    await poll(() => page.locator('.explain h2').textContent()).toContain('Netherlands');
    await screenshot(page, 'marketer-04-phone-map-zoomed', false);
    // No horizontal overflow on the phone.
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await page.context().close();
  });
});

describe('history and search', () => {
  it('ranks search results for a marketer, and the history shows names, one date style, honest empty states and reopens', async () => {
    const page = await open(DESKTOP);
    const search = songSearch(page);
    await search.fill('Miley');
    const first = page.getByRole('option').first();
    await first.waitFor();
    expect(await first.textContent()).toContain('Miley Cyrus');
    expect(await first.locator('.song-name').textContent()).not.toContain('feat.');
    await openSong(page, 'flowrs', /Flowers/);
    await poll(() => page.getByTestId('result').textContent()).toContain('· logged');
    const prediction = (await readLogs(page))[0]!.log;

    await page.getByRole('button', { name: 'History', exact: true }).click();
    const row = page.locator(`tr[data-log-id="${prediction.id}"]`);
    await row.waitFor();
    // Country names, not ISO codes; the device's one date format.
    const chips = await row.locator('.chip').allTextContents();
    expect(chips.every((c) => /^[A-Z][a-z]/.test(c) && !/^[A-Z]{2} /.test(c))).toBe(true);
    const when = await row.locator('.c-when').textContent();
    expect(when).toBe(
      await page.evaluate(
        (iso) => new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso)),
        prediction.createdAt,
      ),
    );
    // A filter that matches nothing says so (not "No predictions yet").
    await page.getByLabel('Filter by song').fill('no such song at all');
    await poll(() => page.getByTestId('history-empty').textContent()).toContain('No prediction on this device matches');
    await page.getByLabel('Filter by song').fill('');
    await row.waitFor();
    await screenshot(page, 'marketer-05-history');

    // Reopen: the Predict view shows that result, from the history, without a new log.
    const before = (await readLogs(page)).length;
    await row.getByTestId('reopen').click();
    await poll(() => page.getByTestId('reopened').textContent()).toContain('From the history');
    expect(await page.getByTestId('result').getAttribute('data-result-id')).toBe(prediction.id);
    expect(await page.getByTestId('result').textContent()).toContain('Flowers');
    expect((await readLogs(page)).length).toBe(before);
    await page.context().close();
  });
});

describe('accessibility', () => {
  it('has no serious or critical axe-core violations on any screen, on a phone and a laptop', async () => {
    const { AxeBuilder } = await import('@axe-core/playwright');
    const found: string[] = [];
    for (const viewport of [PHONE, DESKTOP]) {
      const page = await open(viewport);
      const check = async (screen: string) => {
        const r = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
        for (const v of r.violations.filter((x) => x.impact === 'serious' || x.impact === 'critical')) {
          found.push(
            `${viewport.width}px ${screen}: ${v.id} (${v.impact}) ${v.nodes
              .slice(0, 3)
              .map((n) => n.target.join(' '))
              .join(' | ')}`,
          );
        }
      };
      await check('predict, empty');
      await page.getByRole('button', { name: 'Predict where it charts' }).click();
      await page.locator('.explain .attributions li').first().waitFor();
      await check('predict, result and explanation');
      await page.getByRole('button', { name: 'Batch', exact: true }).click();
      await check('batch');
      await page.getByRole('button', { name: 'History', exact: true }).click();
      await page.locator('tr[data-log-id]').first().waitFor();
      await page.getByRole('button', { name: 'Record outcome' }).first().click();
      await check('history with the outcome form');
      await page.getByRole('button', { name: 'Model', exact: true }).click();
      await check('model');
      await page.context().close();
    }
    expect(found).toEqual([]);
  });
});

describe('walkthrough screens (phone)', () => {
  it('shows the relative answer and a counterfactual that reaches a chosen goal on a 390×844 phone', async () => {
    const page = await open(PHONE);
    await page.waitForFunction(() => (globalThis as { __jukebox?: { percentiles: unknown } }).__jukebox?.percentiles);
    await openSong(page, 'Flowers Miley', /Flowers/);
    await poll(() => page.getByTestId('result').textContent()).toContain('· logged');
    await page.locator('#result-title').scrollIntoViewIfNeeded();
    await page.evaluate(() => document.getElementById('result-title')?.scrollIntoView({ block: 'start' }));
    await jpeg(page, 'walkthrough-02-phone-relative');
    // A country in the middle of the list, toward "double its chance": a change that reaches it.
    const explain = page.locator('.explain');
    let reached = false;
    for (const rank of [6, 8, 10, 3, 4]) {
      const row = page.locator('.ranked-list li').nth(rank);
      const name = (await row.locator('.name').textContent())!;
      await row.getByRole('button').click();
      await poll(() => explain.locator('h2').textContent()).toContain(name);
      const goal = explain.getByTestId('cf-goal');
      const labels = await goal.locator('option').allTextContents();
      const wanted = labels.find((l) => l.startsWith('Top 25%')) ?? labels.find((l) => l.startsWith('Double'));
      if (!wanted) continue;
      await goal.selectOption({ label: wanted });
      await explain.getByRole('button', { name: /Find the smallest change/ }).click();
      const cf = explain.getByTestId('cf-result');
      await cf.waitFor({ timeout: 60_000 });
      if ((await cf.getAttribute('class'))?.includes('counterfactual-none')) continue;
      expect(Number(await cf.getAttribute('data-probability'))).toBeGreaterThanOrEqual(
        Number(await cf.getAttribute('data-target')),
      );
      reached = true;
      break;
    }
    expect(reached).toBe(true);
    // The whole answer (goal, changes in words), as the phone shows it.
    await jpeg(page, 'walkthrough-04-phone-counterfactual', explain.getByTestId('cf-block'));
    await page.context().close();
  });
});

async function jpeg(page: Page, name: string, element?: Locator): Promise<void> {
  const { mkdirSync } = await import('node:fs');
  const { SCREENS } = await import('./helpers.ts');
  mkdirSync(SCREENS, { recursive: true });
  // JPEG for the README (small), PNG beside it to review.
  const target = element ?? page;
  await target.screenshot({ path: resolve(SCREENS, `${name}.jpg`), type: 'jpeg', quality: 82 });
  await target.screenshot({ path: resolve(SCREENS, `${name}.png`) });
}
