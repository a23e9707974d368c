/**
 * Writes our dense model as an ONNX graph (Gemm + Relu/Sigmoid per layer,
 * opset 13) from the same weights the app runs, for the ONNX Runtime Web peer
 * in the benchmark. A minimal protobuf writer: only the ModelProto fields a
 * dense graph needs (field numbers from onnx/onnx.proto3).
 */
import type { DenseWeights } from '../../../model/runtime/dense-model.ts';

class Writer {
  #parts: Uint8Array[] = [];
  #varint(v: number | bigint): void {
    let n = BigInt(v);
    const out: number[] = [];
    do {
      let byte = Number(n & 0x7fn);
      n >>= 7n;
      if (n > 0n) byte |= 0x80;
      out.push(byte);
    } while (n > 0n);
    this.#parts.push(Uint8Array.from(out));
  }
  #tag(field: number, wire: 0 | 2): void {
    this.#varint((field << 3) | wire);
  }
  int(field: number, v: number): this {
    this.#tag(field, 0);
    this.#varint(v);
    return this;
  }
  bytes(field: number, b: Uint8Array): this {
    this.#tag(field, 2);
    this.#varint(b.length);
    this.#parts.push(b);
    return this;
  }
  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  message(field: number, build: (w: Writer) => void): this {
    const w = new Writer();
    build(w);
    return this.bytes(field, w.finish());
  }
  finish(): Uint8Array {
    const len = this.#parts.reduce((s, p) => s + p.length, 0);
    const out = new Uint8Array(len);
    let o = 0;
    for (const p of this.#parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

const FLOAT = 1;

function valueInfo(w: Writer, name: string, dims: (number | string)[]): void {
  w.string(1, name).message(2, (type) =>
    type.message(1, (tensor) =>
      tensor.int(1, FLOAT).message(2, (shape) => {
        for (const d of dims) shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
      }),
    ),
  );
}

function initializer(w: Writer, name: string, dims: number[], data: Float32Array): void {
  for (const d of dims) w.int(1, d);
  w.int(2, FLOAT)
    .string(8, name)
    .bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

/** ONNX bytes computing the same function as `predictReference(weights, x)`, input "x" [N, in], output "y" [N, out]. */
export function denseToOnnx(weights: DenseWeights): Uint8Array {
  const w = new Writer();
  w.int(1, 8); // ir_version
  w.string(2, 'jukebox-edge-bench');
  w.message(7, (g) => {
    let h = 'x';
    weights.layers.forEach((l, i) => {
      const gemm = `gemm_${i}`;
      g.message(1, (n) =>
        n.string(1, h).string(1, `W${i}`).string(1, `b${i}`).string(2, gemm).string(3, gemm).string(4, 'Gemm'),
      );
      const last = i === weights.layers.length - 1;
      const out = last ? 'y' : `h${i}`;
      if (l.activation === 'linear') {
        g.message(1, (n) => n.string(1, gemm).string(2, out).string(3, `act_${i}`).string(4, 'Identity'));
      } else {
        const op = l.activation === 'relu' ? 'Relu' : 'Sigmoid';
        g.message(1, (n) => n.string(1, gemm).string(2, out).string(3, `act_${i}`).string(4, op));
      }
      h = out;
    });
    g.string(2, 'dense');
    weights.layers.forEach((l, i) => {
      g.message(5, (t) => initializer(t, `W${i}`, [l.inputs, l.units], l.kernel));
      g.message(5, (t) => initializer(t, `b${i}`, [l.units], l.bias));
    });
    g.message(11, (v) => valueInfo(v, 'x', ['N', weights.inputSize]));
    g.message(12, (v) => valueInfo(v, 'y', ['N', weights.outputSize]));
  });
  w.message(8, (o) => o.string(1, '').int(2, 13)); // opset_import
  return w.finish();
}
