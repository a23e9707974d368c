/**
 * Gzip for upload bodies: a fetch that sends JSON bodies over 1 KiB with `Content-Encoding: gzip`
 * (`CompressionStream`, native in the browser). A 1,000-log batch is ~2 MB of JSON and ~5× less gzipped, and
 * it crosses the service worker (which proxies uploads for Background Sync) and the network compressed. A server
 * that does not read gzip (an older one answers 415, or 400 because it read the bytes as JSON) gets the same
 * request again uncompressed, and compression stays off for this fetch's lifetime: nothing is set aside as
 * rejected because of the encoding.
 *
 * Not to a server on this machine (loopback): there is no network to spare, and compressing costs the browser
 * more than the upload it saves (figures: `test/bench/README.md`).
 */
const MIN_BYTES = 1024;
/** What a server that cannot read a gzip body answers (ours: 415 for another coding; older ones: a JSON error). */
const REFUSED_CODES = new Set([
  'unsupported-content-encoding',
  'invalid-body-encoding',
  'invalid-json',
  'invalid-value',
]);

/** Whether `input` goes to this machine (localhost, 127.0.0.0/8, ::1), resolved against the page's address. */
export function isLoopback(input: RequestInfo | URL): boolean {
  try {
    const url = new URL(input instanceof Request ? input.url : String(input), globalThis.location?.href);
    return /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i.test(url.hostname);
  } catch {
    return false;
  }
}

export async function gzipText(text: string): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Wraps `doFetch` so string JSON bodies go out gzipped while the server takes them. */
export function gzipFetch(doFetch: typeof fetch): typeof fetch {
  let enabled = typeof CompressionStream !== 'undefined';
  return async function fetchGzipped(input, init) {
    const body = init?.body;
    const headers = new Headers(init?.headers);
    const plain = typeof body !== 'string' || body.length < MIN_BYTES || headers.has('content-encoding');
    if (!enabled || plain || isLoopback(input)) {
      return doFetch(input, init);
    }
    headers.set('content-encoding', 'gzip');
    const res = await doFetch(input, { ...init, headers, body: await gzipText(body) });
    if (res.status !== 415 && res.status !== 400) return res;
    const code = (
      (await res
        .clone()
        .json()
        .catch(() => null)) as { error?: { code?: unknown } } | null
    )?.error?.code;
    if (res.status !== 415 && !(typeof code === 'string' && REFUSED_CODES.has(code))) return res;
    enabled = false;
    return doFetch(input, init);
  };
}
