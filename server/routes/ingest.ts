/**
 * Ingest routes: prediction logs and outcomes from devices (and admins), and
 * the admin chart-CSV upload that becomes outcomes.
 */
import { Hono } from 'hono';
import { type LogBatchRequest, LogBatchRequestSchema, OutcomeBatchRequestSchema } from '../../model/contract/index.ts';
import type { Deps } from '../deps.ts';
import { type AuthEnv, requireRole } from '../http/auth.ts';
import { ApiError } from '../http/errors.ts';
import { batchIssues, readBody, readJsonText } from '../http/json-body.ts';
import { limitBody } from '../http/limits.ts';
import { isValidLogBatch } from '../ingest/fast-log-check.ts';

export function ingestRoutes(deps: Deps) {
  const app = new Hono<AuthEnv>();
  const device = requireRole(deps, 'device', 'admin');
  const admin = requireRole(deps, 'admin');
  const m = deps.metrics;

  app.post('/logs', device, limitBody(deps.config.logBodyLimitBytes), async (c) => {
    const end = m.batchSeconds.startTimer({ kind: 'logs' });
    try {
      const raw = await readJsonText(c);
      let body: LogBatchRequest;
      if (isValidLogBatch(raw)) body = raw;
      else {
        const parsed = LogBatchRequestSchema.safeParse(raw);
        if (!parsed.success) throw new ApiError('validation-failed', batchIssues(parsed.error.issues, 'logs', raw));
        body = parsed.data;
      }
      const p = c.get('principal');
      const r = await deps.logIngest.ingest(body.logs, p.role === 'device' ? p.subject : null);
      m.logsIngested.inc({ result: 'stored' }, r.stored.length - r.duplicates.length);
      if (r.duplicates.length > 0) m.logsIngested.inc({ result: 'duplicate' }, r.duplicates.length);
      m.batches.inc({ kind: 'logs', outcome: 'accepted' });
      return c.json(r, 200);
    } catch (e) {
      m.batches.inc({ kind: 'logs', outcome: e instanceof ApiError ? e.code : 'internal' });
      throw e;
    } finally {
      end();
    }
  });

  app.post('/outcomes', device, limitBody(deps.config.logBodyLimitBytes), async (c) => {
    const end = m.batchSeconds.startTimer({ kind: 'outcomes' });
    try {
      const body = await readBody(c, OutcomeBatchRequestSchema, 'outcomes');
      const p = c.get('principal');
      const r = await deps.outcomeIngest.ingest(body.outcomes, p.role === 'device' ? p.subject : null);
      m.outcomesIngested.inc({ result: 'stored' }, r.stored.length - r.duplicates.length);
      m.batches.inc({ kind: 'outcomes', outcome: 'accepted' });
      return c.json(r, 200);
    } catch (e) {
      m.batches.inc({ kind: 'outcomes', outcome: e instanceof ApiError ? e.code : 'internal' });
      throw e;
    } finally {
      end();
    }
  });

  /** Body: the chart CSV (text/csv). Query `date=YYYY-MM-DD` dates the outcomes (default: latest snapshot_date). */
  app.post('/outcomes/chart-csv', admin, limitBody(deps.config.csvBodyLimitBytes), async (c) => {
    const type = c.req.header('content-type') ?? '';
    if (!/^text\/(csv|plain)\b/i.test(type))
      throw new ApiError('unsupported-media-type', { expected: 'text/csv', got: type || null });
    const date = c.req.query('date');
    if (date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new ApiError('invalid-value', { date });
    const r = await deps.outcomeIngest.ingestChartCsv(await c.req.text(), date);
    m.outcomesIngested.inc({ result: 'stored' }, r.stored);
    return c.json(r, 200);
  });

  return app;
}
