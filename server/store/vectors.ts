/**
 * Number vectors (13 inputs, 72 outputs) are stored as little-endian float64
 * blobs: exact, a third of the size of JSON text, and with no number↔string
 * conversion on the ingest hot path.
 */
export function encodeVector(xs: readonly number[]): Uint8Array {
  const f = new Float64Array(xs.length);
  for (let i = 0; i < xs.length; i++) f[i] = xs[i] as number;
  return new Uint8Array(f.buffer);
}

export function decodeVector(bytes: Uint8Array): number[] {
  // Copy first: a Buffer from the driver may start at an offset that is not a multiple of 8.
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return Array.from(new Float64Array(copy.buffer));
}
