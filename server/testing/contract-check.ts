/**
 * Checks a recorded answer against the contract's endpoint table: the test harness runs every 2xx JSON answer
 * of every integration test through its endpoint's response schema, so a route that drifts from the table
 * fails the test that called it.
 */
import { ENDPOINTS, type Endpoint, type EndpointName } from '../../model/contract/index.ts';

const MATCHERS = (Object.entries(ENDPOINTS) as [EndpointName, Endpoint][]).map(([name, e]) => ({
  name,
  e,
  re: new RegExp(`^${e.path.replace(/[.]/g, '\\.').replace(/\{\w+\}/g, '[^/]+')}$`),
}));

/** The table entry for a request, or null (static files, unknown paths). */
export function endpointFor(method: string, path: string): { name: EndpointName; e: Endpoint } | null {
  const pathname = path.split('?')[0] as string;
  const m = MATCHERS.find((x) => x.e.method === method.toLowerCase() && x.re.test(pathname));
  return m ? { name: m.name, e: m.e } : null;
}

/** Endpoint names whose answers were checked, for a test that wants to know what it covered. */
export const checkedEndpoints = new Set<EndpointName>();

/** Throws when a 2xx JSON answer does not parse with its endpoint's response schema. */
export async function checkResponse(method: string, path: string, res: Response): Promise<void> {
  const hit = endpointFor(method, path);
  if (!hit || res.status < 200 || res.status > 299) return;
  if (!(res.headers.get('content-type') ?? '').startsWith('application/json')) return;
  if ((hit.e.response.contentType ?? 'application/json') !== 'application/json') return;
  // A compressed answer (the catalogue with Accept-Encoding) reaches app.request() still encoded.
  if (res.headers.get('content-encoding')) return;
  const body: unknown = await res.clone().json();
  const r = hit.e.response.schema.safeParse(body);
  if (!r.success) {
    throw new Error(
      `${method} ${path}: the answer does not match ENDPOINTS.${hit.name}.response: ${JSON.stringify(r.error.issues.slice(0, 5))}`,
    );
  }
  checkedEndpoints.add(hit.name);
}
