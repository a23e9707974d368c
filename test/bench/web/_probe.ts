import { launchChromium } from '../../e2e/browser.ts';
import { startTestServer } from '../../e2e/static-server.ts';

const server = await startTestServer(8631);
const browser = await launchChromium();
const context = await browser.newContext();
await context.addInitScript('globalThis.__name = (f) => f;');
const page = await context.newPage();
page.on('crash', () => console.log('CRASH'));
page.on('pageerror', (e) => console.log('ERR', e.message));
await page.goto(server.url);
await page.waitForFunction(() => (globalThis as any).__jukebox?.inference.status === 'ready');
await page.waitForTimeout(3000);
const r = await page.evaluate(async () => {
  const j = (globalThis as any).__jukebox;
  const orig = j.inference.predict.bind(j.inference);
  const marks: number[][] = [];
  let cur: number[] = [];
  j.inference.predict = async (...a: unknown[]) => {
    cur.push(performance.now());
    const r = await orig(...a);
    cur.push(performance.now());
    return r;
  };
  const btn = document.querySelector<HTMLButtonElement>('form button[type=submit]')!;
  const results = document.querySelector('.results')!;
  for (let i = 0; i < 40; i++) {
    cur = [];
    const t0 = performance.now();
    await new Promise<void>((res) => {
      const mo = new MutationObserver(() => {
        mo.disconnect();
        res();
      });
      mo.observe(results, { subtree: true, attributes: true, attributeFilter: ['data-result-id'] });
      btn.click();
    });
    const t1 = performance.now();
    marks.push([cur[0]! - t0, cur[1]! - cur[0]!, t1 - cur[1]!]);
    await new Promise((r) => setTimeout(r, 60));
  }
  return marks.slice(10);
});
console.log(r.map((m) => m.map((v) => v.toFixed(1)).join(' ')).join('\n'));
await browser.close();
await server.close();
