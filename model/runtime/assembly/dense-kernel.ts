// The dense stack as one WebAssembly SIMD kernel (AssemblyScript; compiled at build time by
// model/runtime/dense-simd-build.ts, run by model/runtime/dense-simd.ts).
//
// Why our own: a tfjs backend runs each layer over the whole batch, so the 384-wide first hidden layer is
// written to memory and read back (for 2048 rows, 3 MB), and every call pays for tensors and dispatch. Here
// rows go through all layers TILE at a time, so activations stay in L1 and only inputs and outputs touch
// memory. The host (dense-simd.ts) owns the memory layout: packed weights, a layer table, scratch, rows.
//
// Layout contract with the host:
// - layer table: per layer five i32 — inputs K, padded units N (a multiple of 8), span table pointer, bias
//   pointer, activation (0 linear, 1 relu, 2 sigmoid);
// - span table of a layer: per panel of 8 units three i32 — first input row k0, end row k1, pointer to the
//   panel's (k1 − k0) rows of 8 floats, so the inner loop reads one contiguous stream and only the rows where
//   the panel has a weight: an ensemble folded into one stack has block-diagonal hidden layers, and a panel
//   of one member's units skips the other members' rows (the zeros), doing only the real multiply-adds;
//   padded units have zero weights and bias, and the next layer's K counts them;
// - scratch: two buffers of TILE × (widest layer) floats.

/** Rows per pass through all layers (the host sizes scratch from this export). */
export const TILE: i32 = 16;

/** exp(-z) for four lanes (Cephes expf: range reduction by ln 2, degree-5 polynomial, 2^n from the exponent bits). */
@inline
function expNeg(z: v128): v128 {
  let x = f32x4.neg(z);
  x = f32x4.min(f32x4.max(x, f32x4.splat(-87.3)), f32x4.splat(88.3));
  const n = f32x4.floor(f32x4.add(f32x4.mul(x, f32x4.splat(1.44269504088896341)), f32x4.splat(0.5)));
  x = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  x = f32x4.sub(x, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let y = f32x4.splat(1.9875691500e-4);
  y = f32x4.add(f32x4.mul(y, x), f32x4.splat(1.3981999507e-3));
  y = f32x4.add(f32x4.mul(y, x), f32x4.splat(8.3334519073e-3));
  y = f32x4.add(f32x4.mul(y, x), f32x4.splat(4.1665795894e-2));
  y = f32x4.add(f32x4.mul(y, x), f32x4.splat(1.6666665459e-1));
  y = f32x4.add(f32x4.mul(y, x), f32x4.splat(5.0000001201e-1));
  y = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(y, x), x), x), f32x4.splat(1.0));
  const pow2 = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(y, pow2);
}

@inline
function activate(c: v128, act: i32): v128 {
  if (act == 1) return f32x4.max(c, f32x4.splat(0));
  if (act == 2) return f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), expNeg(c)));
  return c;
}

/**
 * out[rows × N] = act(a[rows × K] · W + bias), rows a multiple of 4. Four rows × eight units at a time:
 * eight accumulators, two weight vectors and one broadcast input fit the 16 SIMD registers (six rows spill).
 */
function layer(a: usize, rows: i32, K: i32, spans: usize, bias: usize, N: i32, out: usize, act: i32): void {
  const rowBytes = <usize>K << 2;
  const outRow = <usize>N << 2;
  for (let p: i32 = 0; p < N; p += 8) {
    const span = spans + <usize>(p >> 3) * 12;
    const from = <usize>load<i32>(span) << 2;
    const to = <usize>load<i32>(span, 4) << 2;
    const panel = <usize>load<i32>(span, 8);
    const b0 = v128.load(bias + (<usize>p << 2));
    const b1 = v128.load(bias + (<usize>p << 2), 16);
    for (let r: i32 = 0; r < rows; r += 4) {
      const a0 = a + <usize>r * rowBytes;
      const a1 = a0 + rowBytes;
      const a2 = a1 + rowBytes;
      const a3 = a2 + rowBytes;
      let c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1, c30 = b0, c31 = b1;
      let wk = panel;
      for (let k: usize = from; k < to; k += 4) {
        const w0 = v128.load(wk);
        const w1 = v128.load(wk, 16);
        wk += 32;
        const x0 = v128.load32_splat(a0 + k);
        c00 = f32x4.add(c00, f32x4.mul(x0, w0));
        c01 = f32x4.add(c01, f32x4.mul(x0, w1));
        const x1 = v128.load32_splat(a1 + k);
        c10 = f32x4.add(c10, f32x4.mul(x1, w0));
        c11 = f32x4.add(c11, f32x4.mul(x1, w1));
        const x2 = v128.load32_splat(a2 + k);
        c20 = f32x4.add(c20, f32x4.mul(x2, w0));
        c21 = f32x4.add(c21, f32x4.mul(x2, w1));
        const x3 = v128.load32_splat(a3 + k);
        c30 = f32x4.add(c30, f32x4.mul(x3, w0));
        c31 = f32x4.add(c31, f32x4.mul(x3, w1));
      }
      const o0 = out + <usize>r * outRow + (<usize>p << 2);
      v128.store(o0, activate(c00, act));
      v128.store(o0, activate(c01, act), 16);
      const o1 = o0 + outRow;
      v128.store(o1, activate(c10, act));
      v128.store(o1, activate(c11, act), 16);
      const o2 = o1 + outRow;
      v128.store(o2, activate(c20, act));
      v128.store(o2, activate(c21, act), 16);
      const o3 = o2 + outRow;
      v128.store(o3, activate(c30, act));
      v128.store(o3, activate(c31, act), 16);
    }
  }
}

/**
 * rows × inWidth inputs at x → rows × outWidth outputs at out, through the layers in the table at `table`.
 * The last TILE may be short: it is padded with zero rows to a multiple of 4, and only real rows are copied out.
 */
export function forward(
  table: usize,
  layers: i32,
  x: usize,
  inWidth: i32,
  rows: i32,
  out: usize,
  outWidth: i32,
  scratch: usize,
  widest: i32,
): void {
  const bufA = scratch;
  const bufB = scratch + ((<usize>TILE * <usize>widest) << 2);
  const inRow = <usize>inWidth << 2;
  for (let r0: i32 = 0; r0 < rows; r0 += TILE) {
    const n = min(TILE, rows - r0);
    const padded = (n + 3) & ~3;
    memory.copy(bufA, x + <usize>r0 * inRow, <usize>n * inRow);
    if (padded > n) memory.fill(bufA + <usize>n * inRow, 0, <usize>(padded - n) * inRow);
    let src = bufA;
    let dst = bufB;
    let width: i32 = 0;
    for (let l: i32 = 0; l < layers; l++) {
      const d = table + <usize>l * 20;
      width = load<i32>(d, 4);
      layer(src, padded, load<i32>(d), <usize>load<i32>(d, 8), <usize>load<i32>(d, 12), width, dst, load<i32>(d, 16));
      const t = src;
      src = dst;
      dst = t;
    }
    const outRow = <usize>outWidth << 2;
    for (let i: i32 = 0; i < n; i++) {
      memory.copy(out + <usize>(r0 + i) * outRow, src + ((<usize>i * <usize>width) << 2), outRow);
    }
  }
}
