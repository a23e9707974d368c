/**
 * The sync engine's one way to the network: a JSON POST with the device
 * token, a time limit, and every outcome (answer, reset, timeout, offline)
 * as a value the engine can classify, never a thrown error.
 */
import { gzipFetch } from './gzip-body.ts';
import type { HttpResult, Post } from './sync-engine.ts';

export interface HttpPostOptions {
  /** Origin (and path prefix) of the label's server; '' = the app's own origin. */
  readonly baseUrl?: string;
  /** The current device token (read at every call: enrollment may change it). */
  readonly token: () => string | null;
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

export function httpPost(options: HttpPostOptions): Post {
  const doFetch = gzipFetch(options.fetch ?? ((input, init) => fetch(input, init)));
  return async function post(path: string, body: unknown): Promise<HttpResult> {
    const token = options.token();
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const abort = new AbortController();
    // A response lost on the way would otherwise hold the pass (and the outbox) until the browser gives up.
    const timer = setTimeout(() => abort.abort(), options.timeoutMs ?? 30_000);
    try {
      const res = await doFetch(`${options.baseUrl ?? ''}${path}`, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal: abort.signal,
      });
      const text = await res.text();
      let parsed: unknown = null;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // A proxy's HTML error page: classified by status alone.
      }
      return { status: res.status, body: parsed };
    } catch (err) {
      return { networkError: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
    } finally {
      clearTimeout(timer);
    }
  };
}
