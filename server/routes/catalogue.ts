/** Catalogue routes: devices download it (gzip, ETag); admins replace it with a CSV upload. */
import { OpenAPIHono } from '@hono/zod-openapi';
import { compress } from 'hono/compress';
import { ENDPOINTS } from '../../model/contract/index.ts';
import { parseCatalogueCsv } from '../catalogue/catalogue.ts';
import type { Deps } from '../deps.ts';
import { DomainError } from '../domain-error.ts';
import type { AuthEnv } from '../http/auth.ts';
import { endpointMounter } from '../http/endpoint-routes.ts';
import { limitBody } from '../http/limits.ts';

export function catalogueRoutes(deps: Deps) {
  const app = new OpenAPIHono<AuthEnv>();
  const on = endpointMounter(app, deps);

  on(ENDPOINTS.catalogue, { middleware: [compress()] }, async (c) => {
    const body = await deps.catalogue.serialised();
    c.header('ETag', body.etag);
    c.header('Cache-Control', 'no-cache');
    // compress() weakens the ETag (W/"…") for gzip bodies; a client sends back either form.
    const inm = (c.req.header('if-none-match') ?? '').split(',').map((t) => t.trim().replace(/^W\//, ''));
    if (inm.includes(body.etag)) return c.body(null, 304);
    return c.body(body.json, 200, { 'content-type': 'application/json' });
  });

  on(ENDPOINTS.replaceCatalogue, { middleware: [limitBody(deps.config.csvBodyLimitBytes)] }, async (c) => {
    const type = c.req.header('content-type') ?? '';
    if (!/^text\/(csv|plain)\b/i.test(type))
      throw new DomainError('unsupported-media-type', { expected: 'text/csv', got: type || null });
    const parsed = parseCatalogueCsv(await c.req.text());
    await deps.catalogue.replace(parsed.songs);
    const body = await deps.catalogue.serialised();
    return {
      json: {
        songs: parsed.songs.length,
        rejected: parsed.rejected.length,
        rejectedRows: parsed.rejected.slice(0, 50),
        etag: body.etag,
      },
    };
  });

  return app;
}
