/**
 * The one client of the server's API, derived from the contract's endpoint table: it builds every URL (path
 * params encoded, query serialised) and the `Authorization` header, sends JSON (or a body the caller already
 * encoded, e.g. gzip), and parses every answer at the boundary — a JSON answer with its endpoint's response
 * schema, an error body with the contract's `ApiErrorSchema` — so callers get typed values or typed failures,
 * never a cast.
 *
 * @example
 * const api = apiClient('', token);
 * const r = await api.call('assignment', {});
 * if (r.ok) r.value.active; else describeError(r.code);
 */
import type { z } from 'zod';
import { ENDPOINTS, type EndpointName, type Endpoints } from '../contract/endpoints.ts';
import { ApiErrorSchema, describeError } from '../contract/errors.ts';

type Ep<N extends EndpointName> = Endpoints[N];
type ParamsOf<N extends EndpointName> = Ep<N> extends { params: infer P extends z.ZodType } ? z.input<P> : undefined;
type QueryOf<N extends EndpointName> = Ep<N> extends { query: infer Q extends z.ZodType } ? z.input<Q> : undefined;
type BodyOf<N extends EndpointName> =
  Ep<N> extends {
    body: { contentType: 'application/json'; schema: infer S extends z.ZodType };
  }
    ? z.input<S>
    : never;
/** What a JSON endpoint answers, after parsing with its response schema. */
export type ApiValue<N extends EndpointName> = z.output<Ep<N>['response']['schema']>;

export interface CallInit<N extends EndpointName> {
  params?: ParamsOf<N>;
  query?: QueryOf<N>;
  /** A JSON body (serialised here). */
  json?: BodyOf<N>;
  /** A body the caller encoded itself (gzip, CSV text) with the headers that describe it. */
  encoded?: { body: BodyInit; headers: Record<string, string> };
  headers?: Record<string, string>;
  signal?: AbortSignal;
  cache?: RequestCache;
}

/** A failed call: the contract's code (from the error body, else from the status), never a thrown error. */
export interface ApiFailure {
  readonly ok: false;
  /** 0 when the server was not reached. */
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly details?: unknown;
  /** The answer's JSON body as sent (null when it was not JSON), for callers that classify by it. */
  readonly body: unknown;
}
export interface ApiSuccess<T> {
  readonly ok: true;
  readonly status: number;
  readonly value: T;
  readonly headers: Headers;
}
export type ApiResult<T> = ApiSuccess<T> | ApiFailure;

export type TokenSource = string | null | (() => string | null | Promise<string | null>);

export interface ApiClientOptions {
  readonly fetch?: typeof fetch;
}

const STATUS_CODES: Record<number, string> = {
  400: 'invalid-value',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  409: 'conflict',
  413: 'body-too-large',
  415: 'unsupported-media-type',
  422: 'validation-failed',
  429: 'rate-limited',
};

function failure(status: number, code: string, details: unknown, body: unknown, message?: string): ApiFailure {
  return { ok: false, status, code, message: message ?? describeError(code), details, body };
}

/** The contract's code for an error answer: from its body when it is the contract's shape, else by status. */
export function errorFromBody(status: number, body: unknown): ApiFailure {
  const e = ApiErrorSchema.safeParse(body);
  if (e.success) return failure(status, e.data.error.code, e.data.error.details, body, e.data.error.message);
  return failure(status, STATUS_CODES[status] ?? (status >= 500 ? 'internal' : 'invalid-value'), undefined, body);
}

/** The `Authorization` header value for a token: the one place the scheme is spelled. */
export function bearer(token: string): string {
  return `Bearer ${token}`;
}

/** The path of an endpoint with its params filled in (each encoded), and its query. */
export function endpointUrl<N extends EndpointName>(
  base: string,
  name: N,
  params?: ParamsOf<N>,
  query?: QueryOf<N>,
): string {
  const e = ENDPOINTS[name];
  const p = (params ?? {}) as Record<string, string>;
  const path = e.path.replace(/\{(\w+)\}/g, (_, k: string) => {
    const v = p[k];
    if (v === undefined) throw new Error(`${name}: path param ${k} is missing`);
    return encodeURIComponent(v);
  });
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    if (v !== undefined && v !== null) q.set(k, String(v));
  }
  const qs = q.toString();
  return `${base.replace(/\/$/, '')}${path}${qs ? `?${qs}` : ''}`;
}

/** The client for one server (`base` = its origin, '' = the page's own) and one token. */
export function apiClient(base: string, token: TokenSource, options: ApiClientOptions = {}) {
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));

  async function send<N extends EndpointName>(name: N, init: CallInit<N>): Promise<Response | ApiFailure> {
    const e = ENDPOINTS[name];
    const headers: Record<string, string> = { ...init.headers };
    const t = typeof token === 'function' ? await token() : token;
    if (t && e.role !== 'public') headers.authorization = bearer(t);
    let body: BodyInit | undefined;
    if (init.encoded) {
      body = init.encoded.body;
      Object.assign(headers, init.encoded.headers);
    } else if (init.json !== undefined) {
      body = JSON.stringify(init.json);
      headers['content-type'] = 'application/json';
    }
    try {
      return await doFetch(endpointUrl(base, name, init.params, init.query), {
        method: e.method.toUpperCase(),
        headers,
        ...(body !== undefined ? { body } : {}),
        ...(init.signal ? { signal: init.signal } : {}),
        ...(init.cache ? { cache: init.cache } : {}),
      });
    } catch (cause) {
      return failure(
        0,
        'network-error',
        cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause),
        null,
      );
    }
  }

  async function readJson(res: Response): Promise<{ ok: true; body: unknown } | { ok: false }> {
    const text = await res.text();
    if (!text) return { ok: true, body: null };
    try {
      return { ok: true, body: JSON.parse(text) as unknown };
    } catch {
      return { ok: false };
    }
  }

  return {
    /** The URL of an endpoint (for a link or a worker that fetches it itself). */
    url<N extends EndpointName>(name: N, params?: ParamsOf<N>, query?: QueryOf<N>): string {
      return endpointUrl(base, name, params, query);
    },

    /** Calls a JSON endpoint and parses its answer with the endpoint's response schema. */
    async call<N extends EndpointName>(name: N, init: CallInit<N> = {}): Promise<ApiResult<ApiValue<N>>> {
      const res = await send(name, init);
      if (!(res instanceof Response)) return res;
      const parsed = await readJson(res);
      if (!res.ok) return errorFromBody(res.status, parsed.ok ? parsed.body : null);
      if (!parsed.ok) return failure(res.status, 'invalid-json', { problem: 'the answer is not JSON' }, null);
      const r = ENDPOINTS[name].response.schema.safeParse(parsed.body);
      if (!r.success) {
        return failure(
          res.status,
          'invalid-value',
          {
            problem: `the answer does not match the contract (${name})`,
            issues: r.error.issues.slice(0, 10),
          },
          parsed.body,
        );
      }
      return { ok: true, status: res.status, value: r.data as ApiValue<N>, headers: res.headers };
    },

    /**
     * Calls with `If-None-Match`: `value` is null when the server answers 304 (the caller's copy is current).
     */
    async callIfChanged<N extends EndpointName>(
      name: N,
      etag: string | null,
      init: CallInit<N> = {},
    ): Promise<ApiResult<ApiValue<N> | null>> {
      const res = await send(name, {
        ...init,
        headers: { ...init.headers, ...(etag ? { 'if-none-match': etag } : {}) },
      });
      if (!(res instanceof Response)) return res;
      if (res.status === 304) return { ok: true, status: 304, value: null, headers: res.headers };
      const parsed = await readJson(res);
      if (!res.ok) return errorFromBody(res.status, parsed.ok ? parsed.body : null);
      const r = ENDPOINTS[name].response.schema.safeParse(parsed.ok ? parsed.body : undefined);
      if (!r.success)
        return failure(
          res.status,
          'invalid-value',
          { problem: `the answer does not match the contract (${name})` },
          null,
        );
      return { ok: true, status: res.status, value: r.data as ApiValue<N>, headers: res.headers };
    },

    /**
     * Calls and hands back the answer unread when it succeeded (a stream, bytes, a CSV download); an error
     * answer is parsed like any other.
     */
    async open<N extends EndpointName>(name: N, init: CallInit<N> = {}): Promise<ApiResult<Response>> {
      const res = await send(name, init);
      if (!(res instanceof Response)) return res;
      if (!res.ok) {
        const parsed = await readJson(res);
        return errorFromBody(res.status, parsed.ok ? parsed.body : null);
      }
      return { ok: true, status: res.status, value: res, headers: res.headers };
    },

    /**
     * Calls and returns the status with the JSON body as sent, unparsed: for the sync engine, which classifies
     * a batch answer (per-item rejections, retries) by status and body itself.
     */
    async exchange<N extends EndpointName>(
      name: N,
      init: CallInit<N> = {},
    ): Promise<{ status: number; body: unknown } | { networkError: string }> {
      const res = await send(name, init);
      if (!(res instanceof Response)) return { networkError: String(res.details) };
      const parsed = await readJson(res);
      return { status: res.status, body: parsed.ok ? parsed.body : null };
    },
  };
}

export type ApiClient = ReturnType<typeof apiClient>;
