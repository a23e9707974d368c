/**
 * The dense stack on our WebAssembly SIMD kernel, as a backend of its own
 * ('simd'). The kernel (assembly/dense-kernel.ts) runs rows through all
 * layers a tile at a time, so hidden activations never leave the cache; this
 * module lays out its memory: the weights packed once into 8-unit panels, a
 * layer table, scratch, and room for the rows of the current call (grown on
 * demand). Faster than tfjs's WASM backend on the whole catalogue (numbers:
 * test/bench/README.md); the per-device benchmark decides where it serves.
 */
import { type KernelExports, kernelImports } from './dense-kernel-abi.ts';
import { type DenseModel, type DenseWeights, kernelDenseModel } from './dense-model.ts';
import { panelSpans } from './dense-structure.ts';

const ACTIVATION_CODE = { linear: 0, relu: 1, sigmoid: 2 } as const;
export const PAGE = 65536;
const pad8 = (n: number) => (n + 7) & ~7;
export const align = (bytes: number) => (bytes + 63) & ~63;

/** Where the weights lie in kernel memory, and what a call passes to `forward`. */
export interface KernelLayout {
  readonly table: number;
  readonly layers: number;
  /** Widest layer (or input), in floats: scratch is two buffers of TILE rows of it. */
  readonly widest: number;
  /** Bytes of scratch one thread needs. */
  readonly scratchBytes: number;
  /** First free byte after the weights, 64-byte aligned. */
  readonly end: number;
  /** Writes the layer table and packed weights into fresh (zero-filled) memory. */
  write(buffer: ArrayBufferLike): void;
}

/**
 * Lays out the layer table and each layer's packed kernel and bias from byte `base` on. Fresh memory is zero,
 * so padded units get zero weights and bias and add nothing to the next layer.
 */
export function layOutKernel(
  w: DenseWeights,
  tile: number,
  base: number,
  /** false: every panel runs over all its input rows, zeros included (the layout before; for benchmarks). */
  structured = true,
): KernelLayout {
  let top = align(base);
  const take = (bytes: number) => {
    const at = top;
    top += align(bytes);
    return at;
  };
  const table = take(w.layers.length * 20);
  let inputs = w.inputSize;
  const placed = w.layers.map((l) => {
    const units = pad8(l.units);
    // Each panel keeps only its rows from the first to the last one with a weight (panelSpans).
    const spans: [number, number][] = structured
      ? panelSpans(l)
      : Array.from({ length: units / 8 }, () => [0, l.inputs] as [number, number]);
    const spanTable = take(spans.length * 12);
    const panels = spans.map(([from, to]) => take((to - from) * 8 * 4));
    const p = { l, inputs, units, spans, spanTable, panels, bias: take(units * 4) };
    inputs = units;
    return p;
  });
  const widest = Math.max(w.inputSize, ...placed.map((p) => p.units));
  return {
    table,
    layers: placed.length,
    widest,
    scratchBytes: align(2 * tile * widest * 4),
    end: top,
    write(buffer) {
      const f32 = new Float32Array(buffer);
      const i32 = new Int32Array(buffer);
      placed.forEach((p, li) => {
        i32.set([p.inputs, p.units, p.spanTable, p.bias, ACTIVATION_CODE[p.l.activation]], table / 4 + li * 5);
        const { kernel, units } = p.l;
        p.spans.forEach(([from, to], panel) => {
          i32.set([from, to, p.panels[panel]!], p.spanTable / 4 + panel * 3);
          const at = p.panels[panel]! / 4;
          for (let r = from; r < to; r++) {
            for (let j = panel * 8; j < Math.min(units, panel * 8 + 8); j++) {
              f32[at + (r - from) * 8 + (j & 7)] = kernel[r * units + j]!;
            }
          }
        });
        f32.set(p.l.bias, p.bias / 4);
      });
    },
  };
}

/** Grows `memory` to hold at least `bytes`. */
export function growTo(memory: WebAssembly.Memory, bytes: number): void {
  const pages = Math.ceil(bytes / PAGE) - memory.buffer.byteLength / PAGE;
  if (pages > 0) memory.grow(pages);
}

/**
 * Places the weights in a fresh kernel instance. `kernel` is the compiled
 * module (the web build inlines its bytes; Node code gets them from
 * compileDenseKernel). Rejects where the module cannot be instantiated.
 *
 * @example
 * const m = await createSimdDenseModel(weights, await WebAssembly.compile(bytes));
 * const probs = m.predictSync(Float32Array.from(features), 1); // 72 values
 */
export async function createSimdDenseModel(
  w: DenseWeights,
  kernel: WebAssembly.Module,
  options: { structured?: boolean } = {},
): Promise<DenseModel> {
  const instance = await WebAssembly.instantiate(kernel, kernelImports());
  const k = instance.exports as unknown as KernelExports;
  const layout = layOutKernel(w, k.TILE.value as number, 64, options.structured ?? true);
  const scratch = layout.end;
  const io = scratch + layout.scratchBytes;
  let capacityRows = 0;
  const ensureRows = (rows: number) => {
    if (rows <= capacityRows) return;
    growTo(k.memory, io + align(rows * w.inputSize * 4) + rows * w.outputSize * 4);
    capacityRows = rows;
  };
  ensureRows(1);
  layout.write(k.memory.buffer);

  return kernelDenseModel(w, (x, rows) => {
    ensureRows(rows);
    const xAt = io;
    const outAt = io + align(rows * w.inputSize * 4);
    // Views are made per call: growing the memory detaches the old ones.
    new Float32Array(k.memory.buffer, xAt, x.length).set(x);
    k.forward(layout.table, layout.layers, xAt, w.inputSize, rows, outAt, w.outputSize, scratch, layout.widest);
    return new Float32Array(k.memory.buffer, outAt, rows * w.outputSize).slice();
  });
}
