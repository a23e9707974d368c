/**
 * Inflates a gzip request body with a bound on the decompressed size, enforced while inflating: a zip bomb
 * (a few kilobytes that inflate to gigabytes) stops at the bound and never holds more than it in memory.
 */
import { createGunzip } from 'node:zlib';

export type Inflated =
  | { readonly ok: true; readonly bytes: Buffer }
  | { readonly ok: false; readonly reason: 'too-large' }
  | { readonly ok: false; readonly reason: 'corrupt'; readonly message: string };

export function gunzipBounded(input: Uint8Array, maxBytes: number): Promise<Inflated> {
  return new Promise((resolve) => {
    // zlib hands out its output a chunk (16 KiB) at a time, asynchronously: counted here, and destroyed past the
    // bound, it inflates no further.
    const gunzip = createGunzip();
    let parts: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (r: Inflated) => {
      if (settled) return;
      settled = true;
      resolve(r);
    };
    gunzip.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.byteLength;
      if (size > maxBytes) {
        parts = [];
        settle({ ok: false, reason: 'too-large' });
        gunzip.destroy();
        return;
      }
      parts.push(chunk);
    });
    gunzip.on('end', () => settle({ ok: true, bytes: Buffer.concat(parts, size) }));
    gunzip.on('error', (err) => settle({ ok: false, reason: 'corrupt', message: err.message }));
    gunzip.end(input);
  });
}
