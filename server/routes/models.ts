/**
 * Model registry routes: publish (admin, JSON with base64 files), list and
 * detail (admin), manifest and files for devices (immutable, long cache,
 * ETag = sha256), stage changes (canary, promote, archive), rollout state,
 * shadow, rollback, assignment and the audit log.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { ModelFileNameSchema, ModelVersionSchema, sha256Hex } from '../../model/contract/index.ts';
import type { Deps } from '../deps.ts';
import { type AuthEnv, requireRole } from '../http/auth.ts';
import { ApiError } from '../http/errors.ts';
import { readBody } from '../http/json-body.ts';
import { limitBody } from '../http/limits.ts';
import { auditCsv } from '../registry/audit.ts';

export const PublishRequestSchema = z.strictObject({
  /** The manifest (validated against ManifestSchema by the registry, to answer `manifest-invalid`). */
  manifest: z.unknown(),
  /** File path (as listed in the manifest) → base64 of its bytes. */
  files: z.record(ModelFileNameSchema, z.base64()),
});
export const CanarySchema = z.strictObject({ percent: z.number().int().min(1).max(50) });
export const ShadowSchema = z.strictObject({ version: ModelVersionSchema.nullable() });
const AuditQuerySchema = z.object({
  format: z.enum(['json', 'csv']).default('json'),
  limit: z.coerce.number().int().min(1).max(100_000).default(200),
  since: z.iso.datetime({ offset: true }).optional(),
  action: z.string().max(64).optional(),
  download: z.enum(['0', '1']).optional(),
});

const IMMUTABLE = 'public, max-age=31536000, immutable';

function versionParam(v: string): string {
  if (!ModelVersionSchema.safeParse(v).success) throw new ApiError('invalid-value', { version: v });
  return v;
}

export function modelRoutes(deps: Deps) {
  const app = new Hono<AuthEnv>();
  const admin = requireRole(deps, 'admin');
  const device = requireRole(deps, 'device', 'admin');
  const reg = deps.registry;
  const manifestEtags = new Map<string, string>();

  app.get('/models', admin, async (c) => {
    const models = await reg.list();
    return c.json({ models, rollout: await reg.rollout() });
  });

  app.post('/models', admin, limitBody(deps.config.publishBodyLimitBytes), async (c) => {
    const body = await readBody(c, PublishRequestSchema);
    const files = new Map(
      Object.entries(body.files).map(([p, b64]) => [p, new Uint8Array(Buffer.from(b64, 'base64'))]),
    );
    const r = await reg.publish(body.manifest, files, c.get('principal').subject);
    return c.json(r, r.created ? 201 : 200);
  });

  app.get('/models/:version', admin, async (c) => {
    const v = versionParam(c.req.param('version'));
    const m = await reg.get(v);
    if (!m) throw new ApiError('unknown-model-version', { version: v }, { status: 404 });
    return c.json({ version: v, ...m });
  });

  app.get('/models/:version/manifest.json', device, async (c) => {
    const v = versionParam(c.req.param('version'));
    const m = await reg.get(v);
    if (!m) throw new ApiError('unknown-model-version', { version: v }, { status: 404 });
    const json = JSON.stringify(m.manifest);
    let etag = manifestEtags.get(v);
    if (!etag) {
      etag = `"${await sha256Hex(json)}"`;
      manifestEtags.set(v, etag);
    }
    c.header('ETag', etag);
    c.header('Cache-Control', IMMUTABLE);
    if (c.req.header('if-none-match') === etag) return c.body(null, 304);
    return c.body(json, 200, { 'content-type': 'application/json' });
  });

  app.get('/models/:version/files/:path', device, async (c) => {
    const v = versionParam(c.req.param('version'));
    const f = await reg.file(v, c.req.param('path'));
    if (!f) {
      if (!(await reg.get(v))) throw new ApiError('unknown-model-version', { version: v }, { status: 404 });
      throw new ApiError('not-found', { version: v, path: c.req.param('path') });
    }
    const etag = `"${f.sha256}"`;
    c.header('ETag', etag);
    c.header('Cache-Control', IMMUTABLE);
    if (c.req.header('if-none-match') === etag) return c.body(null, 304);
    const bytes = new Uint8Array(f.data);
    return c.body(bytes, 200, {
      'content-type': c.req.param('path').endsWith('.json') ? 'application/json' : 'application/octet-stream',
    });
  });

  app.post('/models/:version/canary', admin, async (c) => {
    const v = versionParam(c.req.param('version'));
    const body = await readBody(c, CanarySchema);
    return c.json(await reg.setCanary(v, body.percent, c.get('principal').subject));
  });

  app.post('/models/:version/promote', admin, async (c) => {
    const v = versionParam(c.req.param('version'));
    return c.json(await reg.promote(v, c.get('principal').subject));
  });

  app.post('/models/:version/archive', admin, async (c) => {
    const v = versionParam(c.req.param('version'));
    await reg.archive(v, c.get('principal').subject);
    return c.json(await reg.rollout());
  });

  app.get('/rollout', admin, async (c) => c.json({ ...(await reg.rollout()), audit: await reg.auditLog(50) }));

  app.put('/rollout/shadow', admin, async (c) => {
    const body = await readBody(c, ShadowSchema);
    return c.json(await reg.setShadow(body.version, c.get('principal').subject));
  });

  app.post('/rollout/rollback', admin, async (c) => c.json(await reg.rollback(c.get('principal').subject)));

  /** A device gets its own assignment; an admin may ask for any device with ?deviceId=. */
  app.get('/assignment', device, async (c) => {
    const p = c.get('principal');
    let deviceId = p.subject;
    if (p.role === 'admin') {
      const q = c.req.query('deviceId');
      if (!q) throw new ApiError('invalid-value', { problem: 'admins must pass ?deviceId=' });
      deviceId = q;
    }
    return c.json(await reg.assignment(deviceId));
  });

  /** `?format=csv|json` (default json), `limit` (≤ 100000, default 200), `since` (ISO time), `action`. */
  app.get('/audit', admin, async (c) => {
    const q = AuditQuerySchema.safeParse(c.req.query());
    if (!q.success)
      throw new ApiError(
        'validation-failed',
        q.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })),
      );
    const { format, limit, since, action } = q.data;
    const entries = await reg.auditLog(limit, { ...(since ? { since } : {}), ...(action ? { action } : {}) });
    const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
    if (format === 'csv') {
      return c.body(auditCsv(entries), 200, {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="jukebox-audit-${stamp}.csv"`,
      });
    }
    if (c.req.query('download') === '1')
      c.header('content-disposition', `attachment; filename="jukebox-audit-${stamp}.json"`);
    return c.json({ entries });
  });

  return app;
}
