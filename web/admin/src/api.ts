/**
 * The dashboard's client for the server's admin API: the contract's `apiClient` with the bearer token from the
 * login form (kept in sessionStorage only). Every answer is parsed with its endpoint's schema; a failure becomes
 * an `ApiFailure` whose message is the contract's `describeError`.
 */
import { type ApiValue, apiClient, type CallInit } from '../../../model/client/api-client.ts';
import type { EndpointName } from '../../../model/contract/endpoints.ts';
import { describeError } from '../../../model/contract/errors.ts';

const KEY = 'jukebox-admin-token';

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly details: unknown,
  ) {
    super(describeError(code));
  }
}

export function savedToken(): string | null {
  return sessionStorage.getItem(KEY);
}
export function saveToken(token: string | null): void {
  if (token) sessionStorage.setItem(KEY, token);
  else sessionStorage.removeItem(KEY);
}

const client = apiClient('', () => savedToken() ?? '');

/** Calls an endpoint of the table; resolves to its parsed answer, rejects with an ApiFailure. */
async function call<N extends EndpointName>(name: N, init: CallInit<N> = {}): Promise<ApiValue<N>> {
  const r = await client.call(name, init);
  if (!r.ok) throw new ApiFailure(r.status, r.code, r.details);
  return r.value;
}

/** Fetches with the token and saves the answer as a file (a plain link could not send the bearer token). */
async function download<N extends EndpointName>(name: N, init: CallInit<N>, filename: string): Promise<void> {
  const r = await client.open(name, init);
  if (!r.ok) throw new ApiFailure(r.status, r.code, r.details);
  const url = URL.createObjectURL(await r.value.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export const api = { call, download };

/** Today and N-1 days before, as YYYY-MM-DD (UTC, like the server's buckets). */
export function windowDays(days: number, to = new Date()): { from: string; to: string } {
  const end = to.toISOString().slice(0, 10);
  const start = new Date(Date.parse(`${end}T00:00:00Z`) - (days - 1) * 86_400_000).toISOString().slice(0, 10);
  return { from: start, to: end };
}
