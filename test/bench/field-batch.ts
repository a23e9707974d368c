/**
 * Field-scale batch benchmark (issue 13), in headless Chromium against the real server: the whole catalogue
 * scored on the device, then (1) saving its ~14,000 prediction logs to IndexedDB (the app's own timing: scored
 * → every log stored) and (2) syncing those pending logs to the server on loopback (network back → nothing
 * pending), with the header's pending count sampled to show it moving. Offline while scoring, so the sync
 * does not start during the save.
 *
 *   npm run build:web && npx tsx test/bench/field-batch.ts      (ROUNDS=2 to change)
 */
import type { Page } from 'playwright-core';
import { ENDPOINTS } from '../../model/contract/index.ts';
import { enrollmentCode, startServerProcess } from '../chaos/server-process.ts';
import { launchChromium } from '../e2e/browser.ts';
import { emitResult, verdict } from './report.ts';

const ROUNDS = Number(process.env.ROUNDS ?? 2);

interface J {
  __jukebox?: { sync: { pending: number; phase: string }; catalogueStatus: string; inference: { status: string } };
}

const pending = (p: Page) => p.evaluate(() => (globalThis as J).__jukebox?.sync.pending ?? -1);

/** Seconds the server spent in its log-ingest handler so far (read, inflate, parse, validate, store). */
async function serverLogSeconds(server: Awaited<ReturnType<typeof startServerProcess>>): Promise<number> {
  const text = await (await server.admin(ENDPOINTS.metrics.path)).text();
  const m = /^jukebox_ingest_batch_seconds_sum\{kind="logs"\} (\S+)$/m.exec(text);
  // Absent until the first batch is observed.
  return m ? Number(m[1]) : 0;
}

const server = await startServerProcess();
const browser = await launchChromium();
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(120_000);
  const code = await enrollmentCode(server);
  await page.goto(`${server.url}/?enroll=${code}`);
  await page.waitForFunction(() => {
    const j = (globalThis as J).__jukebox;
    return j?.inference.status === 'ready' && j.catalogueStatus === 'ready' && j.sync.phase === 'idle';
  });
  await page.getByRole('button', { name: 'Batch', exact: true }).click();
  const saves: number[] = [];
  const syncs: number[] = [];
  let songs = 0;
  let samples: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    await context.setOffline(true);
    await page.getByRole('button', { name: 'Score the whole catalogue' }).click();
    const result = page.getByTestId('batch-result');
    await result.waitFor();
    saves.push(Number(await result.getAttribute('data-save-ms')));
    songs = Number(await result.getAttribute('data-songs'));
    const before = await pending(page);
    // Network back: the app syncs on `online`. Time until nothing is pending, sampling the header's count.
    samples = [before];
    const serverBefore = await serverLogSeconds(server);
    const t0 = performance.now();
    await context.setOffline(false);
    for (;;) {
      const n = await pending(page);
      if (n !== samples[samples.length - 1]) samples.push(n);
      if (n === 0) break;
      if (performance.now() - t0 > 120_000) throw new Error(`sync did not finish: ${n} pending`);
      await new Promise((r) => setTimeout(r, 25));
    }
    syncs.push(performance.now() - t0);
    const serverMs = ((await serverLogSeconds(server)) - serverBefore) * 1000;
    console.log(
      `round ${round + 1}: ${songs} songs; save ${saves.at(-1)?.toFixed(0)} ms; sync of ${before} logs ${syncs.at(-1)?.toFixed(0)} ms (server's log handler ${serverMs.toFixed(0)} ms of it); pending seen: ${samples.join(' → ')}`,
    );
    await page.getByRole('button', { name: 'Score the whole catalogue' }).waitFor();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const save = median(saves);
  const sync = median(syncs);
  emitResult({
    bench: 'batch',
    metric: `whole-catalogue batch: save ${songs} prediction logs to IndexedDB, median of ${ROUNDS}`,
    ours: `${(save / 1000).toFixed(2)} s`,
    peer: 'before: 10–16 s (issue 13)',
    ratio: `${(save / 13_000).toFixed(3)}×`,
    target: `≤ 1 s ${verdict(save <= 1000)}`,
  });
  emitResult({
    bench: 'batch',
    metric: `sync ${songs} pending logs to the server on loopback (SQLite), median of ${ROUNDS}; pending count updates seen: ${samples.length}`,
    ours: `${(sync / 1000).toFixed(2)} s`,
    peer: 'before: ~25 s (issue 13)',
    ratio: `${(sync / 25_000).toFixed(3)}×`,
    target: `≤ 5 s ${verdict(sync <= 5000)}`,
  });
} finally {
  await browser.close();
  await server.dispose();
}
