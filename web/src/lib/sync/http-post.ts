/**
 * The sync engine's one way to the network: a batch POST through the contract's API client (which builds the
 * URL and the device token header), with a time limit, and every outcome (answer, reset, timeout, offline) as a
 * value the engine can classify, never a thrown error.
 */
import type { ApiClient } from '../../../../model/client/api-client.ts';
import { ENDPOINTS } from '../../../../model/contract/endpoints.ts';
import type { HttpResult, Post } from './sync-engine.ts';

export interface HttpPostOptions {
  /** The device's API client (its server and current token). */
  readonly client: ApiClient;
  readonly timeoutMs?: number;
}

/** The batch endpoints an outbox may post to, by their path. */
const BATCH_ENDPOINTS = {
  [ENDPOINTS.uploadLogs.path]: 'uploadLogs',
  [ENDPOINTS.uploadOutcomes.path]: 'uploadOutcomes',
} as const;

export function httpPost(options: HttpPostOptions): Post {
  return async function post(path: string, body: unknown): Promise<HttpResult> {
    const name = BATCH_ENDPOINTS[path as keyof typeof BATCH_ENDPOINTS];
    if (!name) return { networkError: `no batch endpoint at ${path}` };
    const abort = new AbortController();
    // A response lost on the way would otherwise hold the pass (and the outbox) until the browser gives up.
    const timer = setTimeout(() => abort.abort(), options.timeoutMs ?? 30_000);
    try {
      // The engine checks the batch against the contract before it posts; the body is sent as it was built.
      return await options.client.exchange(name, {
        encoded: { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } },
        headers: { accept: 'application/json' },
        signal: abort.signal,
      });
    } finally {
      clearTimeout(timer);
    }
  };
}
