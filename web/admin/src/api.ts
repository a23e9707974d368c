/**
 * The dashboard's client for the server's admin API: bearer token from the
 * login form (kept in sessionStorage only), errors turned into words by the
 * contract's `describeError`.
 */
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

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${savedToken() ?? ''}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let r: Response;
  try {
    r = await fetch(`/api/v1${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (cause) {
    throw new ApiFailure(0, 'network-error', cause);
  }
  if (!r.ok) {
    let code = 'internal';
    let details: unknown;
    try {
      const e = (await r.json()) as { error?: { code?: string; details?: unknown } };
      code = e.error?.code ?? code;
      details = e.error?.details;
    } catch {
      // not JSON: keep the generic code
    }
    throw new ApiFailure(r.status, code, details);
  }
  return (await r.json()) as T;
}

/** Fetches with the token and saves the answer as a file (a plain link could not send the bearer token). */
async function download(path: string, filename: string): Promise<void> {
  const r = await fetch(`/api/v1${path}`, { headers: { authorization: `Bearer ${savedToken() ?? ''}` } });
  if (!r.ok) throw new ApiFailure(r.status, r.status === 401 ? 'unauthorized' : 'internal', null);
  const url = URL.createObjectURL(await r.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export const api = {
  download,
  get: <T>(path: string) => call<T>('GET', path),
  post: <T>(path: string, body?: unknown) => call<T>('POST', path, body),
  put: <T>(path: string, body?: unknown) => call<T>('PUT', path, body),
};

/** Today and N-1 days before, as YYYY-MM-DD (UTC, like the server's buckets). */
export function windowDays(days: number, to = new Date()): { from: string; to: string } {
  const end = to.toISOString().slice(0, 10);
  const start = new Date(Date.parse(`${end}T00:00:00Z`) - (days - 1) * 86_400_000).toISOString().slice(0, 10);
  return { from: start, to: end };
}
