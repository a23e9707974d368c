/**
 * Admin dashboard screenshots with real data: the built page
 * (dist/web/admin/index.html, built by `npx vite build -c web/vite.config.ts`)
 * served by the real server on a loopback port, filled with three weeks of
 * logs from the catalogue (danceability +0.2 on half the logs of the last
 * week), outcomes, a canary and alerts; headless Chromium takes one
 * screenshot per page into test/artifacts/screens/admin-*.png (and the Models
 * page on a 390×844 phone, admin-models-phone.png).
 * Builds nothing itself: skipped with a message when the page is not built.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { uuidv7 } from 'uuidv7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COUNTRY_CODES, type Outcome } from '../../model/contract/index.ts';
import { catalogueSongs, fixtureModel, makeLog, publishBody, rng } from '../../server/testing/fixtures.ts';
import { type SpawnedServer, spawnServer } from '../../server/testing/spawn-server.ts';
import { CHROMIUM, launchChromium } from '../e2e/browser.ts';

/** The built web app (override with DASHBOARD_WEB_DIST to screenshot a build made elsewhere). */
const WEB_DIST = process.env.DASHBOARD_WEB_DIST ?? 'dist/web';
const ADMIN_PAGE = `${WEB_DIST}/admin/index.html`;
const built = existsSync(ADMIN_PAGE);
const haveChromium = existsSync(CHROMIUM);
if (!built)
  console.warn(
    `server-dashboard: SKIPPED — ${ADMIN_PAGE} is missing; build it with \`npx vite build -c web/vite.config.ts\` first.`,
  );
else if (!haveChromium) console.warn(`server-dashboard: SKIPPED — ${CHROMIUM} is missing (apt-get install chromium).`);

const OUT = 'test/artifacts/screens';

describe.skipIf(!built || !haveChromium)('admin dashboard in headless Chromium', () => {
  let server: SpawnedServer;
  const auth = () => ({ authorization: `Bearer ${server.adminToken}` });
  const post = async (path: string, body: unknown, token?: string) => {
    const r = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : auth()) },
      body: JSON.stringify(body),
    });
    if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return r.json() as Promise<unknown>;
  };

  beforeAll(async () => {
    const songs = catalogueSongs();
    const training = songs.slice(0, 1500);
    const v1 = await fixtureModel({ songs: training.map((s) => s.features), salt: 'p' });
    server = await spawnServer({ port: 8720, model: v1, env: { WEB_DIST } });
    const version = v1.manifest.version;
    const v2 = await fixtureModel({ songs: training.map((s) => s.features), salt: 'q', parent: version });
    await post('/api/v1/models', publishBody(v2));
    await post(`/api/v1/models/${v2.manifest.version}/canary`, { percent: 20 });

    // Four devices, three weeks of logs; the last week has danceability +0.2 on half the logs.
    const r = rng(3);
    const tokens: Record<string, string> = {};
    for (const [i, label] of ['Berlin office', 'Lisbon field team', 'São Paulo', 'Tokyo'].entries()) {
      const { code } = (await post('/api/v1/admin/enrollment-codes', {})) as { code: string };
      const id = `device-${i + 1}`;
      tokens[id] = (
        (await post('/api/v1/enroll', { code, deviceId: id, label }, 'x'.repeat(43))) as { token: string }
      ).token;
    }
    const today = Date.parse(`${new Date().toISOString().slice(0, 10)}T00:00:00Z`);
    const outcomes: Outcome[] = [];
    for (let d = 20; d >= 0; d--) {
      for (const [id, token] of Object.entries(tokens)) {
        if (id === 'device-4' && d < 5) continue; // one device has not synced for five days
        const logs = Array.from({ length: 300 }, () => {
          const song = songs[Math.floor(r() * 6000)]!;
          const createdAt = new Date(today - d * 86_400_000 + Math.floor(r() * 86_400_000 * 0.9)).toISOString();
          return makeLog(song, {
            deviceId: id,
            modelVersion: version,
            createdAt,
            danceShift: d < 7 && r() < 0.5 ? 0.2 : 0,
          });
        });
        await post('/api/v1/logs', { logs }, token);
        // Outcomes for a few songs: charted with a chance that follows the model (so AUC is informative, not perfect).
        for (const l of logs.slice(0, 12)) {
          for (let k = 0; k < 4; k++) {
            const c = Math.floor(r() * COUNTRY_CODES.length);
            const p = l.outputs[c] ?? 0;
            const charted = r() < Math.min(0.95, p * (d < 7 ? 0.9 : 1.6));
            outcomes.push({
              id: uuidv7(),
              song: { songId: l.songId! },
              country: COUNTRY_CODES[c]!,
              charted,
              date: l.createdAt.slice(0, 10),
              source: 'chart-upload',
              recordedAt: new Date().toISOString(),
            });
          }
        }
      }
    }
    for (let i = 0; i < outcomes.length; i += 1000)
      await post('/api/v1/outcomes', { outcomes: outcomes.slice(i, i + 1000) });
    await post('/api/v1/alerts/evaluate', {});
  });
  afterAll(async () => server?.stop());

  it('renders every page with data and takes a screenshot of each', async () => {
    mkdirSync(OUT, { recursive: true });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
      page.setDefaultTimeout(20_000);
      const consoleErrors: string[] = [];
      page.on('pageerror', (e) => consoleErrors.push(e.message));
      await page.goto(`${server.url}/admin/`);
      await page.getByLabel('Admin token').waitFor();
      await page.screenshot({ path: `${OUT}/admin-login.png` });
      await page.getByLabel('Admin token').fill('wrong-token-wrong-token-wrong');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').waitFor();
      expect(await page.getByRole('alert').textContent()).toContain('valid token');
      await page.getByLabel('Admin token').fill(server.adminToken);
      await page.getByRole('button', { name: 'Sign in' }).click();

      const shots: [string, string, string][] = [
        ['overview', 'active devices', 'admin-overview'],
        ['drift', 'PSI per feature over time', 'admin-drift'],
        ['outputs', 'Largest changes of mean probability', 'admin-outputs'],
        ['performance', 'ROC-AUC per version', 'admin-performance'],
        ['alerts', 'danceability', 'admin-alerts'],
        ['devices', 'Lisbon field team', 'admin-devices'],
        ['models', 'Audit log', 'admin-models'],
        ['compare', 'Evaluation (each on its own held-out test songs)', 'admin-compare'],
      ];
      for (const [hash, text, name] of shots) {
        await page.goto(`${server.url}/admin/#/${hash}`);
        await page.getByText(text).first().waitFor();
        await page.waitForTimeout(300);
        await page.screenshot({ path: `${OUT}/${name}.png`, fullPage: true });
        expect(existsSync(`${OUT}/${name}.png`)).toBe(true);
      }
      // Compare: the two version pickers name both versions with their stages, and the header's picker too.
      await page.goto(`${server.url}/admin/#/compare`);
      await page.getByText('Evaluation (each on its own held-out test songs)').waitFor();
      const picked = await page
        .locator('select')
        .evaluateAll((els) => els.map((e) => (e as HTMLSelectElement).selectedOptions[0]?.textContent ?? ''));
      expect(picked.filter((t) => / · production$/.test(t)).length).toBeGreaterThanOrEqual(1);
      expect(picked.some((t) => / · canary$/.test(t))).toBe(true);
      // The drift page flags danceability.
      await page.goto(`${server.url}/admin/#/drift`);
      await page.getByText('PSI per feature over time').waitFor();
      const row = page.locator('tr', { hasText: 'danceability' }).first();
      expect(await row.textContent()).toMatch(/alert|warn/);
      // The Performance page's traffic switch: every log here is interactive, so with batch traffic no
      // outcome matches a prediction; with all kinds they match again.
      await page.goto(`${server.url}/admin/#/performance`);
      await page.getByText('ROC-AUC per version').first().waitFor();
      const matched = async () =>
        (await page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.children[3]?.textContent ?? '')))
          .map((t) => Number(t.split(' of ')[0]?.replace(/,/g, '')))
          .reduce((a, b) => a + b, 0);
      expect(await matched()).toBeGreaterThan(0);
      await page.getByLabel('Traffic').selectOption('batch');
      await expect.poll(matched, { timeout: 10_000 }).toBe(0);
      await page.getByLabel('Traffic').selectOption('all');
      await expect.poll(matched, { timeout: 10_000 }).toBeGreaterThan(0);

      // On a 390×844 phone the Models table's eight columns do not fit: no cell may end past its card's edge
      // (the card would clip it), and each value keeps its column's name beside it. No card on the page
      // (the audit log's long JSON lines included) may need scrolling sideways.
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(`${server.url}/admin/#/models`);
      await page.getByText('Audit log').first().waitFor();
      await page.waitForTimeout(300);
      await page.screenshot({ path: `${OUT}/admin-models-phone.png`, fullPage: true });
      const phone = await page
        .locator('main table')
        .first()
        .evaluate((table) => {
          const card = table.closest('.card') as HTMLElement;
          const edge = card.getBoundingClientRect().right;
          const cells = [...table.querySelectorAll('tbody td')];
          const cards = [...document.querySelectorAll<HTMLElement>('main .card')];
          return {
            clipped: Math.max(...cards.map((c) => c.scrollWidth - c.clientWidth)),
            pastEdge: Math.max(...cells.map((c) => c.getBoundingClientRect().right)) - edge,
            labels: cells.map((c) => getComputedStyle(c, '::before').content),
          };
        });
      expect(phone.clipped).toBeLessThanOrEqual(0);
      expect(phone.pastEdge).toBeLessThanOrEqual(0);
      expect(phone.labels).toContain('"Macro AUC"');
      expect(phone.labels).toContain('"Version"');
      expect(consoleErrors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
