/**
 * Mounts a route from the contract's endpoint table (`model/contract/endpoints.ts`) with `@hono/zod-openapi`:
 * the table's role picks the auth middleware, its path params and query are validated by the library (failures
 * mapped to contract codes by `validationHook`), its JSON body is read once by `json-body.ts` (bounded, depth
 * checked, per-item errors) and the handler's answer is typed by its response schema. Each route is registered
 * in the OpenAPI registry with the whole table entry, so `/api/v1/openapi.json` is generated from the table.
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import type { z } from 'zod';
import { API_PREFIX, ApiErrorSchema, type Endpoint, type ErrorCode, isErrorCode } from '../../model/contract/index.ts';
import { DomainError } from '../domain-error.ts';
import { type AuthEnv, requireRole } from './auth.ts';
import { readBody } from './json-body.ts';

export { API_PREFIX };

type Out<S> = S extends z.ZodType ? z.output<S> : Record<string, never>;
type BodyOf<E extends Endpoint> = E['body'] extends { contentType: 'application/json'; schema: infer S }
  ? z.output<S>
  : undefined;

/** What a handler gets: validated path params and query, and the parsed JSON body (when the route reads it). */
export interface EndpointInput<E extends Endpoint> {
  params: Out<E['params']>;
  query: Out<E['query']>;
  body: BodyOf<E>;
}

/** A JSON answer typed by the table's response schema (status defaults to the table's), or any Response. */
export type EndpointReply<E extends Endpoint> =
  | { json: z.input<E['response']['schema']>; status?: 200 | 201 | 202 }
  | Response;

export interface MountOptions {
  /** Runs after authentication, before validation and the body (body limits, rate limits). */
  middleware?: MiddlewareHandler<AuthEnv>[];
  /** false: the handler reads the body itself (the log fast path, metrics around parsing). */
  readBody?: boolean;
  /** false: no token check (the handler or a middleware decides, e.g. METRICS_PUBLIC). */
  auth?: boolean;
}

interface AuthDeps {
  tokens: Parameters<typeof requireRole>[0]['tokens'];
  limiter: Parameters<typeof requireRole>[0]['limiter'];
  authFailures: Parameters<typeof requireRole>[0]['authFailures'];
  config: { trustProxy: boolean };
}

/**
 * Maps a failed param/query validation to the contract: a refinement that names its own contract code
 * (`params: { code }`) answers that code; a bad path param is `invalid-value` (400), a bad query
 * `validation-failed` (422) with the issues, never the library's default 400 body.
 */
export function validationHook(
  result: { success: boolean; target: string; error?: z.ZodError; data?: unknown },
  c: Context,
): void {
  if (result.success || !result.error) return;
  const issues = result.error.issues;
  const own = issues.find(
    (i): i is z.core.$ZodIssueCustom => i.code === 'custom' && isErrorCode(String(i.params?.code ?? '')),
  );
  const field = (i: z.core.$ZodIssue) => String(i.path[0] ?? '');
  const raw = result.target === 'param' ? c.req.param() : c.req.query();
  if (own) {
    const name = field(own);
    throw new DomainError(own.params?.code as ErrorCode, { [name]: (raw as Record<string, string>)[name] });
  }
  if (result.target === 'param') {
    const name = field(issues[0] as z.core.$ZodIssue);
    throw new DomainError('invalid-value', { [name]: (raw as Record<string, string>)[name] });
  }
  throw new DomainError(
    'validation-failed',
    issues.slice(0, 50).map((i) => ({ path: i.path.map(String), message: i.message })),
  );
}

/** The table's path relative to where its app is mounted (`/api/v1/x` → `/x` in the API sub-app). */
function relativePath(e: Endpoint, prefix: string): string {
  if (!e.path.startsWith(prefix)) throw new Error(`${e.path} is not under ${prefix}`);
  return e.path.slice(prefix.length) || '/';
}

const bearer = [{ bearer: [] as string[] }];

/** The whole table entry as an OpenAPI operation (request body, every response with its schema, errors). */
function openApiRoute(e: Endpoint, path: string) {
  const errorText = ['unauthorized', 'forbidden', 'rate-limited', ...e.errors]
    .filter(
      (code, i, all) =>
        all.indexOf(code) === i && (e.role !== 'public' || !['unauthorized', 'forbidden'].includes(code)),
    )
    .join(', ');
  return createRoute({
    method: e.method,
    path,
    summary: e.summary,
    ...(e.description ? { description: e.description } : {}),
    security: e.role === 'public' ? [] : bearer,
    'x-role': e.deviceOnly ? 'device-only' : e.role,
    request: {
      ...(e.params ? { params: e.params } : {}),
      ...(e.query ? { query: e.query } : {}),
      ...(e.body
        ? {
            body: {
              required: !e.body.optional,
              ...(e.body.description ? { description: e.body.description } : {}),
              content: { [e.body.contentType]: { schema: e.body.schema } },
            },
          }
        : {}),
    },
    responses: {
      [e.response.status]: {
        description: e.response.description ?? 'OK',
        content: { [e.response.contentType ?? 'application/json']: { schema: e.response.schema } },
      },
      ...(errorText
        ? {
            '4XX': {
              description: `Error codes: ${errorText}`,
              content: { 'application/json': { schema: ApiErrorSchema } },
            },
          }
        : {}),
    },
  });
}

/** Mounts table entries on one OpenAPIHono app; `on(entry, handler)` per route. */
export function endpointMounter(app: OpenAPIHono<AuthEnv>, deps: AuthDeps, prefix = API_PREFIX) {
  const guards = {
    device: requireRole(deps, 'device', 'admin'),
    deviceOnly: requireRole(deps, 'device'),
    admin: requireRole(deps, 'admin'),
  };
  return function on<const E extends Endpoint>(
    e: E,
    opts: MountOptions,
    handler: (c: Context<AuthEnv>, input: EndpointInput<E>) => Promise<EndpointReply<E>>,
  ): void {
    const path = relativePath(e, prefix);
    const auth = e.role === 'public' || opts.auth === false ? [] : [e.deviceOnly ? guards.deviceOnly : guards[e.role]];
    // The library validates params and query (and registers nothing: the full entry is registered below).
    const route = createRoute({
      method: e.method,
      path,
      hide: true,
      middleware: [...auth, ...(opts.middleware ?? [])] as MiddlewareHandler[],
      request: { ...(e.params ? { params: e.params } : {}), ...(e.query ? { query: e.query } : {}) },
      responses: {},
    });
    app.openAPIRegistry.registerPath(openApiRoute(e, path));
    const readsJson = e.body?.contentType === 'application/json' && opts.readBody !== false;
    app.openapi(
      route,
      // biome-ignore lint/suspicious/noExplicitAny: the library's handler type is keyed by the route; ours by the table entry.
      (async (c: Context<AuthEnv, string, any>) => {
        const valid = c.req as unknown as { valid(target: 'param' | 'query'): unknown };
        const body = readsJson ? await readTableBody(c, e) : undefined;
        const input = {
          params: e.params ? valid.valid('param') : {},
          query: e.query ? valid.valid('query') : {},
          body,
        } as EndpointInput<E>;
        const r = await handler(c, input);
        if (r instanceof Response) return r;
        return c.json(r.json as object, r.status ?? e.response.status);
        // biome-ignore lint/suspicious/noExplicitAny: see above.
      }) as any,
      validationHook as never,
    );
  };
}

/** Reads and validates an endpoint's JSON body with the one body reader (an optional one may be empty). */
export async function readTableBody<E extends Endpoint>(c: Context, e: E): Promise<BodyOf<E>> {
  const b = e.body;
  if (b?.contentType !== 'application/json') throw new Error(`${e.path} takes no JSON body`);
  if (b.optional && (c.req.raw.body === null || c.req.header('content-length') === '0'))
    return b.schema.parse({}) as BodyOf<E>;
  return (await readBody(c, b.schema, b.batchKey)) as BodyOf<E>;
}
