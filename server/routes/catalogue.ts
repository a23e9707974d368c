/** Catalogue routes: devices download it (gzip, ETag); admins replace it with a CSV upload. */
import { Hono } from 'hono';
import { compress } from 'hono/compress';
import { parseCatalogueCsv } from '../catalogue/catalogue.ts';
import type { Deps } from '../deps.ts';
import { type AuthEnv, requireRole } from '../http/auth.ts';
import { ApiError } from '../http/errors.ts';
import { limitBody } from '../http/limits.ts';

export function catalogueRoutes(deps: Deps) {
  const app = new Hono<AuthEnv>();
  const device = requireRole(deps, 'device', 'admin');
  const admin = requireRole(deps, 'admin');

  app.get('/catalogue', device, compress(), async (c) => {
    const body = await deps.catalogue.serialised();
    c.header('ETag', body.etag);
    c.header('Cache-Control', 'no-cache');
    // compress() weakens the ETag (W/"…") for gzip bodies; a client sends back either form.
    const inm = (c.req.header('if-none-match') ?? '').split(',').map((t) => t.trim().replace(/^W\//, ''));
    if (inm.includes(body.etag)) return c.body(null, 304);
    return c.body(body.json, 200, { 'content-type': 'application/json' });
  });

  app.put('/catalogue', admin, limitBody(deps.config.csvBodyLimitBytes), async (c) => {
    const type = c.req.header('content-type') ?? '';
    if (!/^text\/(csv|plain)\b/i.test(type))
      throw new ApiError('unsupported-media-type', { expected: 'text/csv', got: type || null });
    const parsed = parseCatalogueCsv(await c.req.text());
    await deps.catalogue.replace(parsed.songs);
    const body = await deps.catalogue.serialised();
    return c.json({
      songs: parsed.songs.length,
      rejected: parsed.rejected.length,
      rejectedRows: parsed.rejected.slice(0, 50),
      etag: body.etag,
    });
  });

  return app;
}
