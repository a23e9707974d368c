/**
 * Screenshots of admin dashboard pages in headless Chromium: signs in with
 * the admin token, opens each page, waits for a text that only real data
 * shows, and saves test/artifacts/screens/<name>.png. Returns the page
 * errors seen (a test expects none).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { CHROMIUM, launchChromium } from '../../e2e/browser.ts';

export const SCREENS = 'test/artifacts/screens';

/** The built web app with the admin page (override with DASHBOARD_WEB_DIST), or null when not built / no Chromium. */
export function dashboardBuild(): string | null {
  const dist = process.env.DASHBOARD_WEB_DIST ?? 'dist/web';
  if (!existsSync(`${dist}/admin/index.html`)) {
    console.warn(
      `admin screenshots SKIPPED: ${dist}/admin/index.html is missing (npx vite build -c web/vite.config.ts)`,
    );
    return null;
  }
  // A build from before the retraining pages would time out waiting for them: say so instead.
  const assets = existsSync(`${dist}/assets`)
    ? readdirSync(`${dist}/assets`).filter((f) => /^admin-.*\.js$/.test(f))
    : [];
  if (!assets.some((f) => readFileSync(`${dist}/assets/${f}`, 'utf8').includes('Started by an alert'))) {
    console.warn(
      `admin screenshots SKIPPED: ${dist} is an older build without the Retraining page (npm run build:web)`,
    );
    return null;
  }
  if (!existsSync(CHROMIUM)) {
    console.warn(`admin screenshots SKIPPED: ${CHROMIUM} is missing`);
    return null;
  }
  return dist;
}

export async function adminScreenshots(
  url: string,
  adminToken: string,
  shots: readonly {
    hash: string;
    waitFor: string;
    name: string;
    check?: (text: string) => void;
    /** Something to do on the page after the screenshot (click, download…). */
    act?: (page: import('playwright-core').Page) => Promise<void>;
  }[],
): Promise<string[]> {
  mkdirSync(SCREENS, { recursive: true });
  const browser = await launchChromium();
  const errors: string[] = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 }, acceptDownloads: true });
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${url}/admin/`);
    await page.getByLabel('Admin token').fill(adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('nav').waitFor();
    for (const s of shots) {
      await page.goto(`${url}/admin/#/${s.hash}`);
      await page.getByText(s.waitFor).filter({ visible: true }).first().waitFor();
      await page.waitForTimeout(400);
      await page.screenshot({ path: `${SCREENS}/${s.name}.png`, fullPage: true });
      s.check?.((await page.locator('main').textContent()) ?? '');
      await s.act?.(page);
    }
  } finally {
    await browser.close();
  }
  return errors;
}
