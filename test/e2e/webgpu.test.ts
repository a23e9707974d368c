/**
 * WebGPU correctness: headless Chromium with --enable-unsafe-webgpu exposes a
 * software adapter (SwiftShader). The app must bring WebGPU up (parity-checked
 * against the manifest), and its outputs must match WASM within 1e-4 on real
 * catalogue songs. Small batches: the software adapter is slow.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSongsCsv } from '../../model/catalogue/catalogue-csv.ts';
import { FEATURE_NAMES, toVector } from '../../model/contract/features.ts';
import { readSharedDataFile } from '../../model/shared-data.ts';
import { launchChromium } from './browser.ts';
import { waitReady } from './helpers.ts';
import { startTestServer, type TestServer } from './static-server.ts';

let server: TestServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  server = await startTestServer(8622);
  browser = await launchChromium(['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-angle=swiftshader']);
  page = await browser.newPage();
  page.setDefaultTimeout(120_000);
  // Only the GPU and WASM backends, so WebGPU is the one chosen at start-up when it works.
  await page.goto(`${server.url}/?backends=webgpu,wasm`);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('WebGPU backend', () => {
  it('starts on WebGPU when an adapter exists and matches WASM within 1e-4', async () => {
    const hasAdapter = await page.evaluate(async () => {
      const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
      return !!(gpu && (await gpu.requestAdapter()));
    });
    expect(hasAdapter).toBe(true);
    const ready = await waitReady(page, false);
    expect(ready.status).toBe('ready');
    expect(ready.single).toBe('webgpu');

    const parsed = parseSongsCsv(readSharedDataFile('song-catalog.csv'));
    if (!parsed.ok) throw new Error(parsed.message);
    const rows = parsed.value.songs.slice(0, 48).map((s) => toVector(s.features));
    const result = await page.evaluate(
      async ({ rows, width }) => {
        type P = { ok: boolean; value: { outputs: Float32Array; backend: string }; code?: string };
        const inf = (
          globalThis as unknown as {
            __jukebox: { inference: { predict(x: Float32Array, n: number, o: { backend: string }): Promise<P> } };
          }
        ).__jukebox.inference;
        const x = new Float32Array(rows.length * width);
        rows.forEach((r, i) => {
          x.set(r, i * width);
        });
        const gpu = await inf.predict(x, rows.length, { backend: 'webgpu' });
        const cpu = await inf.predict(x, rows.length, { backend: 'wasm' });
        if (!gpu.ok || !cpu.ok) return { error: `${gpu.code ?? ''} ${cpu.code ?? ''}` };
        let maxDiff = 0;
        for (let i = 0; i < gpu.value.outputs.length; i++) {
          maxDiff = Math.max(maxDiff, Math.abs(gpu.value.outputs[i]! - cpu.value.outputs[i]!));
        }
        return { maxDiff, n: gpu.value.outputs.length, backends: [gpu.value.backend, cpu.value.backend] };
      },
      { rows, width: FEATURE_NAMES.length },
    );
    expect(result).not.toHaveProperty('error');
    expect(result.backends).toEqual(['webgpu', 'wasm']);
    expect(result.n).toBe(48 * 72);
    expect(result.maxDiff).toBeLessThan(1e-4);
  });
});
