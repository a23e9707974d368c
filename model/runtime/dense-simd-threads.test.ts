import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_KERNEL_THREADS } from './dense-kernel-abi.ts';
import { predictReference } from './dense-model.ts';
import { createSimdDenseModel } from './dense-simd.ts';
import { compileDenseKernel } from './dense-simd-build.ts';
import { createThreadedSimdDenseModel, type SpawnKernelThread } from './dense-simd-threads.ts';
import { mulberry32 } from './prng.ts';
import { shippedModel, songRows } from './testing/kernel-fixtures.ts';
import { spawnNodeKernelThread } from './testing/node-kernel-thread.ts';

const { weights } = shippedModel();

/** Helper threads share two cores with the rest of the suite: seconds of work there is slow, not hung. */
const SLOW_ON_LOADED_CORES_MS = 60_000;

describe('WebAssembly SIMD dense model on threads', () => {
  let own: WebAssembly.Module;
  let shared: WebAssembly.Module;
  beforeAll(async () => {
    own = await WebAssembly.compile(await compileDenseKernel());
    shared = await WebAssembly.compile(await compileDenseKernel('shared'));
  });

  it(
    'gives exactly the single-threaded outputs, whichever rows each thread takes',
    async () => {
      const single = await createSimdDenseModel(weights, own);
      const x = songRows(mulberry32(3), 3000);
      const expected = single.predictSync(x, 3000);
      for (const threads of [2, 3]) {
        const m = await createThreadedSimdDenseModel(weights, shared, { threads, spawn: spawnNodeKernelThread });
        // 1 and 127 rows stay on the calling thread; from 128 on, rows are shared out in chunks (a short last one for
        // 129, 1001 and 3000 rows).
        for (const rows of [1, 127, 128, 129, 1001, 3000]) {
          const got = m.predictSync(x.subarray(0, rows * 13), rows);
          expect(got).toEqual(expected.subarray(0, rows * 72));
        }
        m.dispose();
        expect(() => m.predictSync(x.subarray(0, 13), 1)).toThrow(/disposed/);
      }
      const ref = predictReference(weights, x.subarray(2999 * 13));
      for (let j = 0; j < 72; j++) expect(Math.abs(expected[2999 * 72 + j]! - ref[j]!)).toBeLessThan(1e-5);
    },
    SLOW_ON_LOADED_CORES_MS,
  );

  it(
    'runs a call bigger than one pass through shared memory in several passes',
    async () => {
      const m = await createThreadedSimdDenseModel(weights, shared, { threads: 2, spawn: spawnNodeKernelThread });
      const rows = 40_000;
      const x = songRows(mulberry32(5), rows);
      const y = m.predictSync(x, rows);
      for (const r of [0, 32_767, 32_768, rows - 1]) {
        const ref = predictReference(weights, x.subarray(r * 13, (r + 1) * 13));
        for (let j = 0; j < 72; j++) expect(Math.abs(y[r * 72 + j]! - ref[j]!)).toBeLessThan(1e-5);
      }
      m.dispose();
    },
    SLOW_ON_LOADED_CORES_MS,
  );

  it('refuses a thread count it cannot run, and stops the started helpers when one fails to start', async () => {
    const spawn = spawnNodeKernelThread;
    await expect(createThreadedSimdDenseModel(weights, shared, { threads: 1, spawn })).rejects.toThrow(/threads/);
    await expect(
      createThreadedSimdDenseModel(weights, shared, { threads: MAX_KERNEL_THREADS + 1, spawn }),
    ).rejects.toThrow(/threads/);
    const stopped: number[] = [];
    const flaky: SpawnKernelThread = async (init) => {
      if (init.index === 2) throw new Error('worker script failed to load');
      return { terminate: () => stopped.push(init.index) };
    };
    await expect(createThreadedSimdDenseModel(weights, shared, { threads: 3, spawn: flaky })).rejects.toThrow(
      /did not start: Error: worker script failed to load/,
    );
    expect(stopped).toEqual([1]);
  });

  it('reports a kernel that fails on any thread, waits for the others, and runs the next call cleanly', async () => {
    // A stand-in kernel that traps on an 88-row chunk (200 rows: chunks of 112 and 88) and otherwise fills the
    // outputs with one byte pattern.
    const dir = mkdtempSync(join(tmpdir(), 'kernel-'));
    const source = join(dir, 'failing-kernel.ts');
    writeFileSync(
      source,
      `export const TILE: i32 = 16;
export function forward(table: usize, layers: i32, x: usize, inWidth: i32, rows: i32, out: usize, outWidth: i32, scratch: usize, widest: i32): void {
  if (rows == 88) unreachable();
  memory.fill(out, 1, <usize>(rows * outWidth * 4));
}`,
    );
    const failing = await WebAssembly.compile(await compileDenseKernel('shared', source));
    const m = await createThreadedSimdDenseModel(weights, failing, { threads: 2, spawn: spawnNodeKernelThread });
    for (let i = 0; i < 4; i++) {
      expect(() => m.predictSync(new Float32Array(200 * 13), 200)).toThrow(/unreachable|failed on 1 helper/);
      const ok = m.predictSync(new Float32Array(300 * 13), 300);
      expect(new Set(ok).size).toBe(1);
      expect(new Uint8Array(ok.buffer, 0, 4)).toEqual(new Uint8Array([1, 1, 1, 1]));
    }
    m.dispose();
  });

  it('gives up on a helper that never finishes its share, and says so on every later call', async () => {
    // "Ready" but never running: the calling thread waits for its share in vain.
    const silent: SpawnKernelThread = async () => ({ terminate: () => undefined });
    const m = await createThreadedSimdDenseModel(weights, shared, { threads: 2, spawn: silent, timeoutMs: 200 });
    const x = songRows(mulberry32(9), 256);
    expect(m.predictSync(x.subarray(0, 13), 1)).toHaveLength(72);
    expect(() => m.predictSync(x, 256)).toThrow(/did not finish within 200 ms/);
    expect(() => m.predictSync(x.subarray(0, 13), 1)).toThrow(/did not finish/);
  });
});
