/**
 * Model registry routes: publish (admin, JSON with base64 files), list and
 * detail (admin), manifest and files for devices (immutable, long cache,
 * ETag = sha256), stage changes (canary, promote, archive), rollout state,
 * shadow, rollback, assignment and the audit log.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { ENDPOINTS, sha256Hex } from '../../model/contract/index.ts';
import type { Deps } from '../deps.ts';
import { DomainError } from '../domain-error.ts';
import type { AuthEnv } from '../http/auth.ts';
import { endpointMounter } from '../http/endpoint-routes.ts';
import { limitBody } from '../http/limits.ts';
import { auditCsv } from '../registry/audit.ts';

const IMMUTABLE = 'public, max-age=31536000, immutable';

export function modelRoutes(deps: Deps) {
  const app = new OpenAPIHono<AuthEnv>();
  const on = endpointMounter(app, deps);
  const reg = deps.registry;
  const manifestEtags = new Map<string, string>();

  on(ENDPOINTS.listModels, {}, async () => {
    const models = await reg.list();
    return { json: { models, rollout: await reg.rollout() } };
  });

  on(ENDPOINTS.publishModel, { middleware: [limitBody(deps.config.publishBodyLimitBytes)] }, async (c, { body }) => {
    const files = new Map(
      Object.entries(body.files).map(([p, b64]) => [p, new Uint8Array(Buffer.from(b64, 'base64'))]),
    );
    const r = await reg.publish(body.manifest, files, c.get('principal').subject);
    return { json: r, status: r.created ? 201 : 200 };
  });

  on(ENDPOINTS.getModel, {}, async (_c, { params }) => {
    const v = params.version;
    const m = await reg.get(v);
    if (!m) throw new DomainError('unknown-model-version', { version: v }, { missing: true });
    return { json: { version: v, ...m } };
  });

  on(ENDPOINTS.modelManifest, {}, async (c, { params }) => {
    const v = params.version;
    const m = await reg.get(v);
    if (!m) throw new DomainError('unknown-model-version', { version: v }, { missing: true });
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

  on(ENDPOINTS.modelFile, {}, async (c, { params }) => {
    const v = params.version;
    const f = await reg.file(v, params.path);
    if (!f) {
      if (!(await reg.get(v))) throw new DomainError('unknown-model-version', { version: v }, { missing: true });
      throw new DomainError('not-found', { version: v, path: params.path });
    }
    const etag = `"${f.sha256}"`;
    c.header('ETag', etag);
    c.header('Cache-Control', IMMUTABLE);
    if (c.req.header('if-none-match') === etag) return c.body(null, 304);
    const bytes = new Uint8Array(f.data);
    return c.body(bytes, 200, {
      'content-type': params.path.endsWith('.json') ? 'application/json' : 'application/octet-stream',
    });
  });

  on(ENDPOINTS.canary, {}, async (c, { params, body }) => ({
    json: await reg.setCanary(params.version, body.percent, c.get('principal').subject),
  }));

  on(ENDPOINTS.promote, {}, async (c, { params }) => ({
    json: await reg.promote(params.version, c.get('principal').subject),
  }));

  on(ENDPOINTS.archive, {}, async (c, { params }) => {
    await reg.archive(params.version, c.get('principal').subject);
    return { json: await reg.rollout() };
  });

  on(ENDPOINTS.rollout, {}, async () => ({ json: { ...(await reg.rollout()), audit: await reg.auditLog(50) } }));

  on(ENDPOINTS.setShadow, {}, async (c, { body }) => {
    return { json: await reg.setShadow(body.version, c.get('principal').subject) };
  });

  on(ENDPOINTS.rollback, {}, async (c) => ({ json: await reg.rollback(c.get('principal').subject) }));

  /** A device gets its own assignment; an admin may ask for any device with ?deviceId=. */
  on(ENDPOINTS.assignment, {}, async (c, { query }) => {
    const p = c.get('principal');
    let deviceId = p.subject;
    if (p.role === 'admin') {
      const q = query.deviceId;
      if (!q) throw new DomainError('invalid-value', { problem: 'admins must pass ?deviceId=' });
      deviceId = q;
    }
    return { json: await reg.assignment(deviceId) };
  });

  /** `?format=csv|json` (default json), `limit` (≤ 100000, default 200), `since` (ISO time), `action`. */
  on(ENDPOINTS.audit, {}, async (c, { query }) => {
    const { format, limit, since, action } = query;
    const entries = await reg.auditLog(limit, { ...(since ? { since } : {}), ...(action ? { action } : {}) });
    const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
    if (format === 'csv') {
      return c.body(auditCsv(entries), 200, {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="jukebox-audit-${stamp}.csv"`,
      });
    }
    if (query.download === '1') c.header('content-disposition', `attachment; filename="jukebox-audit-${stamp}.json"`);
    return { json: { entries } };
  });

  return app;
}
