/**
 * Chaos: three devices (browser contexts of the real built PWA, each enrolled) make 10,000 predictions in total
 * while offline — batch scoring of catalogue rows, each row a logged prediction — then sync through a loopback
 * proxy that drops 30 % of requests and 30 % of responses and delays others, while the real server (a child
 * process on a SQLite data dir) is killed with SIGKILL twice and restarted on the same data. At the end the server
 * holds exactly the 10,000 logs the devices made, once each, and every device's outbox is empty.
 */
import Database from 'better-sqlite3';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../e2e/browser.ts';
import { readLogs, waitReady } from '../e2e/helpers.ts';
import { type FaultProxy, startFaultProxy } from './fault-proxy.ts';
import { enrollmentCode, type ServerProcess, startServerProcess } from './server-process.ts';

const TOTAL = 10_000;
const DEVICES = 3;
const SEED = Number(process.env.CHAOS_SEED ?? 20261123);

interface ChaosGlobal {
  __jukebox?: {
    deviceId: string;
    catalogue: { all(): { id: string; name: string; artists: string; features: unknown }[] } | null;
    predictAndLog(
      items: { inputs: unknown; source: string; songId?: string; label?: string }[],
    ): Promise<{ ok: true; logIds: string[]; saved: Promise<boolean> } | { ok: false; notice: { message: string } }>;
    sync: {
      phase: string;
      pending: number;
      rejected: number;
      refreshCounts(): Promise<void>;
      engineState: { attempt: number };
    };
  };
}

let server: ServerProcess;
let proxy: FaultProxy;
let browser: Browser;
const devices: { context: BrowserContext; page: Page; deviceId: string }[] = [];

function serverLogs(): { rows: number; distinct: number; ids: Set<string>; perDevice: Map<string, number> } {
  const db = new Database(server.sqlitePath, { readonly: true, fileMustExist: true });
  try {
    const ids = new Set((db.prepare('SELECT id FROM logs').all() as { id: string }[]).map((r) => r.id));
    const { n: rows, d: distinct } = db.prepare('SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS d FROM logs').get() as {
      n: number;
      d: number;
    };
    const perDevice = new Map(
      (db.prepare('SELECT id, logs_total FROM devices').all() as { id: string; logs_total: number }[]).map((d) => [
        d.id,
        d.logs_total,
      ]),
    );
    return { rows, distinct, ids, perDevice };
  } finally {
    db.close();
  }
}

/** Rows on the server now, or null while it is down or mid-write (the test polls). */
function serverRowCount(): number | null {
  try {
    const db = new Database(server.sqlitePath, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT COUNT(*) AS n FROM logs').get() as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return null;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  server = await startServerProcess();
  proxy = await startFaultProxy(server.port, {
    dropRequest: 0.3,
    dropResponse: 0.3,
    delay: 0.5,
    maxDelayMs: 400,
    seed: SEED,
  });
  // Set-up (loading the app, enrolling, the catalogue) goes through the proxy without faults.
  proxy.setFaults(false);
  browser = await launchChromium();
  for (let i = 0; i < DEVICES; i++) {
    const context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
    const page = await context.newPage();
    page.setDefaultTimeout(60_000);
    const code = await enrollmentCode(server);
    // Short retry backoff (100 ms doubling to 2 s) so the test waits seconds, not the product's minutes.
    await page.goto(`${proxy.url}/?enroll=${code}&syncBackoffMs=100-2000`);
    await waitReady(page);
    await page.waitForFunction(() => (globalThis as ChaosGlobal).__jukebox?.sync.phase === 'idle');
    await page.waitForFunction(() => ((globalThis as ChaosGlobal).__jukebox?.catalogue?.all().length ?? 0) > 4000);
    const deviceId = await page.evaluate(() => (globalThis as ChaosGlobal).__jukebox!.deviceId);
    devices.push({ context, page, deviceId });
  }
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await proxy?.close();
  await server?.dispose();
});

describe('sync under chaos', () => {
  it('lands exactly 10,000 logs once each through dropped requests, dropped responses and two SIGKILLs', async () => {
    const t0 = performance.now();
    // Offline: every prediction goes to the device's outbox only.
    for (const d of devices) await d.context.setOffline(true);
    const shares = Array.from(
      { length: DEVICES },
      (_, i) => Math.floor(TOTAL / DEVICES) + (i < TOTAL % DEVICES ? 1 : 0),
    );
    await Promise.all(
      devices.map((d, i) =>
        d.page.evaluate(
          async ({ n, offset }) => {
            const j = (globalThis as ChaosGlobal).__jukebox!;
            const songs = j.catalogue!.all();
            // Two batch scorings per device, of catalogue rows (each row is one logged prediction).
            const half = Math.ceil(n / 2);
            for (const [from, count] of [
              [0, half],
              [half, n - half],
            ] as const) {
              const rows = Array.from({ length: count }, (_, k) => songs[(offset + from + k) % songs.length]!);
              const r = await j.predictAndLog(
                rows.map((s) => ({
                  inputs: s.features,
                  source: 'batch',
                  songId: s.id,
                  label: `${s.name} — ${s.artists}`,
                })),
              );
              if (!r.ok) throw new Error(r.notice.message);
              if (!(await r.saved)) throw new Error('logs not saved');
            }
          },
          { n: shares[i]!, offset: i * 3000 },
        ),
      ),
    );
    const predictedMs = performance.now() - t0;
    const deviceIds = new Set<string>();
    for (const d of devices) {
      const logs = await readLogs(d.page);
      for (const l of logs) {
        expect(l.synced).toBe(0);
        expect(l.log.deviceId).toBe(d.deviceId);
        deviceIds.add(l.log.id);
      }
    }
    expect(deviceIds.size).toBe(TOTAL);
    expect(serverRowCount()).toBe(0);

    // Chaos on, devices online: the `online` event starts each device's sync.
    proxy.setFaults(true);
    const t1 = performance.now();
    for (const d of devices) await d.context.setOffline(false);

    // Two crashes mid-sync, each once a share of the logs has landed (or after a few seconds, whichever is first).
    const kills: { atRows: number | null; downMs: number }[] = [];
    for (const threshold of [2_000, 6_000]) {
      const until = Date.now() + 20_000;
      while ((serverRowCount() ?? 0) < threshold && Date.now() < until) await sleep(50);
      const atRows = serverRowCount();
      await server.kill('SIGKILL');
      const down = performance.now();
      await sleep(1_000);
      await server.restart();
      kills.push({ atRows, downMs: Math.round(performance.now() - down) });
    }

    // Every device empties its outbox (the app retries on its own; nobody presses "Sync now").
    const deadline = Date.now() + 180_000;
    for (;;) {
      const states = await Promise.all(
        devices.map((d) =>
          d.page.evaluate(async () => {
            const s = (globalThis as ChaosGlobal).__jukebox!.sync;
            await s.refreshCounts();
            return { pending: s.pending, rejected: s.rejected, phase: s.phase };
          }),
        ),
      );
      if (states.every((s) => s.pending === 0)) {
        expect(states.map((s) => s.rejected)).toEqual([0, 0, 0]);
        break;
      }
      if (Date.now() > deadline) throw new Error(`outboxes not empty: ${JSON.stringify(states)}`);
      await sleep(500);
    }
    const syncedMs = performance.now() - t1;

    const onServer = serverLogs();
    expect(onServer.rows).toBe(TOTAL);
    expect(onServer.distinct).toBe(TOTAL);
    expect([...deviceIds].every((id) => onServer.ids.has(id))).toBe(true);
    // The server's per-device counters count each log once, retries and replays included.
    for (const d of devices) {
      expect(onServer.perDevice.get(d.deviceId)).toBe(shares[devices.indexOf(d)]);
      const logs = await readLogs(d.page);
      expect(logs.filter((l) => l.synced !== 1)).toHaveLength(0);
    }
    expect(server.starts).toBe(3);
    // Both crashes came mid-sync: some logs had landed, not all.
    for (const k of kills) expect(k.atRows === null || (k.atRows > 0 && k.atRows < TOTAL)).toBe(true);
    expect(proxy.counts.droppedRequests).toBeGreaterThan(0);
    expect(proxy.counts.droppedResponses).toBeGreaterThan(0);
    console.log(
      JSON.stringify(
        {
          predictions: TOTAL,
          devices: DEVICES,
          predictMs: Math.round(predictedMs),
          syncMs: Math.round(syncedMs),
          kills,
          proxy: proxy.counts,
          seed: SEED,
        },
        null,
        1,
      ),
    );
  });
});
