/**
 * Which backend answers a request: the one asked for, else the workload's
 * choice, else the cheapest for its number of rows by this device's measured
 * timings. The timings come from a per-device benchmark, run once per model
 * version and backend order and stored by the page; start-up prefers the
 * stored single-row winner.
 */
import type { Backend } from '../../../../model/contract/prediction-log.ts';
import { MIN_SPLIT_ROWS } from '../../../../model/runtime/dense-simd-threads.ts';
import type { Backends } from './backends.ts';
import { EngineError } from './engine-error.ts';
import type { BackendBenchmark, BackendTiming, Workload } from './protocol.ts';

export interface RoutingDeps {
  readonly now: () => number;
  readonly userAgent: string;
  /** Rows used to time a big batch per backend (smaller in tests). */
  readonly benchmarkRows?: number;
}

/**
 * Below MIN_SPLIT_ROWS rows 'simd-threads' runs on the calling thread alone, so it is 'simd' under another name
 * and their timings differ only by noise: where 'simd' serves too, such calls go to 'simd', and the log names
 * what really ran.
 */
const sameAsSimd = (name: Backend, rows: number, timings: readonly BackendTiming[]) =>
  name === 'simd-threads' && rows < MIN_SPLIT_ROWS && timings.some((t) => t.backend === 'simd');

export type Router = ReturnType<typeof createRouter>;

export function createRouter(backends: Backends, deps: RoutingDeps) {
  let order: Backend[] = [];
  const choice: Record<Workload, Backend> = { single: 'cpu', batch: 'cpu' };
  /** This device's measured speeds (stored or just measured), used to route each request by its size. */
  let timings: readonly BackendTiming[] = [];

  /**
   * The backend for `rows` rows by this device's timings: a call's fixed cost (about its one-row time) plus
   * the per-row cost. So a backend with a low fixed cost takes single rows and one with a low per-row cost
   * (WebGPU, say) big batches, wherever the crossover lies on this device. Before any timing exists, a size
   * rule stands in.
   */
  function cheapest(rows: number): Backend {
    const usable = timings.filter(
      (t) => order.includes(t.backend) && !backends.failed(t.backend) && !sameAsSimd(t.backend, rows, timings),
    );
    if (usable.length === 0) return rows > 64 ? choice.batch : choice.single;
    const cost = (t: BackendTiming) => t.singleMs + (rows - 1) * t.batchMsPerRow;
    return usable.reduce((a, b) => (cost(b) < cost(a) ? b : a)).backend;
  }

  /** The backend asked for, else the workload's choice, else the cheapest for this many rows. */
  async function pick(requested: Backend | undefined, workload: Workload | undefined, rows: number): Promise<Backend> {
    if (requested) {
      if (!(await backends.ensure(requested))) {
        throw new EngineError('backend-unavailable', { backend: requested, reason: backends.failure(requested) });
      }
      return requested;
    }
    const want = workload ? choice[workload] : cheapest(rows);
    if (await backends.ensure(want)) return want;
    return choice.single;
  }

  /**
   * Times every backend in turn, round by round, so a change in the machine's load falls on all of them
   * alike, and keeps each one's fastest round: on a shared machine noise only ever adds time. The first round
   * is untimed: V8 runs a WebAssembly kernel's first calls in its baseline tier and swaps in optimised code in
   * the background, and tfjs sets up its operators on first use. Each call is its own task, so user
   * predictions are never held up behind the whole benchmark.
   */
  async function measure(names: readonly Backend[]): Promise<BackendTiming[]> {
    const { manifest, weights } = backends.served!;
    const width = weights.inputSize;
    // Enough rows to reach each backend's steady per-row speed without stalling start-up on the slow ones.
    const rowsFor = (name: Backend) =>
      deps.benchmarkRows ??
      (name === 'wasm' || name === 'simd' || name === 'simd-threads' ? 4096 : name === 'webgpu' ? 1024 : 512);
    const most = Math.max(...names.map(rowsFor));
    const x = new Float32Array(most * width);
    const base = manifest.parity.inputs;
    for (let r = 0; r < most; r++) x.set(base[r % base.length]!, r * width);
    const one = x.subarray(0, width);
    const single = new Map(names.map((n) => [n, Number.POSITIVE_INFINITY]));
    const batch = new Map(names.map((n) => [n, Number.POSITIVE_INFINITY]));
    const time = (fn: () => Promise<unknown>) =>
      backends.exclusive(async () => {
        const t0 = deps.now();
        await fn();
        return deps.now() - t0;
      });
    for (let round = 0; round < 6; round++) {
      for (const name of names) {
        // Blocks of 20 calls: a worker's clock is coarsened to 0.1 ms where the page is not cross-origin isolated.
        const ms = await time(async () => {
          for (let k = 0; k < 20; k++) await backends.run(name, one, 1);
        });
        if (round > 0) single.set(name, Math.min(single.get(name)!, ms / 20));
      }
    }
    for (let round = 0; round < 3; round++) {
      for (const name of names) {
        const rows = rowsFor(name);
        const ms = await time(() => backends.run(name, x.subarray(0, rows * width), rows));
        if (round > 0) batch.set(name, Math.min(batch.get(name)!, ms / rows));
      }
    }
    return names.map((n) => ({ backend: n, singleMs: single.get(n)!, batchMsPerRow: batch.get(n)! }));
  }

  return {
    cheapest,
    pick,
    /** The backends chosen for one row and for big batches. */
    choice: (): Readonly<Record<Workload, Backend>> => ({ ...choice }),
    single: () => choice.single,
    batch: () => choice.batch,

    /**
     * Starts routing for a newly served model: the stored benchmark is used when it was measured by this
     * browser, for this version and this backend order; its single-row winner is tried first. Returns the first
     * backend that came up (null: none did), and whether the stored benchmark applies.
     */
    async start(
      backendOrder: readonly Backend[],
      b: BackendBenchmark | null | undefined,
    ): Promise<{ primary: Backend | null; stored: boolean }> {
      order = [...backendOrder];
      timings = [];
      const version = backends.served?.manifest.version;
      const stored =
        b &&
        b.userAgent === deps.userAgent &&
        b.modelVersion === version &&
        b.tried.length === order.length &&
        b.tried.every((name, i) => name === order[i])
          ? b
          : null;
      const preferred = stored ? [stored.single, ...order.filter((n) => n !== stored.single)] : order;
      let primary: Backend | null = null;
      for (const name of preferred) {
        if (!order.includes(name)) continue;
        if (await backends.exclusive(() => backends.ensure(name))) {
          primary = name;
          break;
        }
      }
      if (!primary) return { primary, stored: stored !== null };
      choice.single = primary;
      choice.batch = stored && order.includes(stored.batch) ? stored.batch : primary;
      timings = stored?.timings ?? [];
      return { primary, stored: stored !== null };
    },

    /** Forgets the timings (a new model is being loaded). */
    reset(backendOrder: readonly Backend[]): void {
      order = [...backendOrder];
      timings = [];
    },

    /** Measures every backend that comes up, in order, and routes by the result (null: none came up). */
    async benchmark(): Promise<BackendBenchmark | null> {
      const names: Backend[] = [];
      for (const name of order) if (await backends.exclusive(() => backends.ensure(name))) names.push(name);
      const measured = names.length > 0 ? await measure(names) : [];
      if (measured.length === 0) return null;
      const best = (key: 'singleMs' | 'batchMsPerRow', rows: number) =>
        measured.filter((t) => !sameAsSimd(t.backend, rows, measured)).reduce((a, b) => (b[key] < a[key] ? b : a))
          .backend;
      choice.single = best('singleMs', 1);
      choice.batch = best('batchMsPerRow', deps.benchmarkRows ?? 4096);
      timings = measured;
      return {
        userAgent: deps.userAgent,
        modelVersion: backends.served!.manifest.version,
        measuredAt: new Date().toISOString(),
        tried: [...order],
        timings: measured,
        single: choice.single,
        batch: choice.batch,
      };
    },
  };
}
