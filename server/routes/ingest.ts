/**
 * Ingest routes: prediction logs and outcomes from devices (and admins), and
 * the admin chart-CSV upload that becomes outcomes.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { ENDPOINTS } from '../../model/contract/index.ts';
import type { Deps } from '../deps.ts';
import { DomainError } from '../domain-error.ts';
import type { AuthEnv } from '../http/auth.ts';
import { endpointMounter, readTableBody } from '../http/endpoint-routes.ts';
import { bodyBytes, requireJson } from '../http/json-body.ts';
import { limitBody } from '../http/limits.ts';
import { outcomesOutsideWindow } from '../ingest/event-window.ts';
import { exportOutcomes } from '../ingest/outcome-export.ts';

export function ingestRoutes(deps: Deps) {
  const app = new OpenAPIHono<AuthEnv>();
  const on = endpointMounter(app, deps);
  const ingestLimit = { middleware: [limitBody(deps.config.logBodyLimitBytes)], readBody: false };
  const m = deps.metrics;
  const window = { backDays: deps.config.eventWindowBackDays, aheadDays: deps.config.eventWindowAheadDays };

  /**
   * A device batch: counted as device traffic from its first byte (a chart upload lets it go first,
   * ingest/device-first.ts), timed with its body read, so a refused body is counted by its code.
   */
  const deviceBatch = <T>(kind: 'logs' | 'outcomes', handle: () => Promise<T>) =>
    deps.deviceFirst.device(async () => {
      const end = m.batchSeconds.startTimer({ kind });
      try {
        const answer = await handle();
        m.batches.inc({ kind, outcome: 'accepted' });
        return answer;
      } catch (e) {
        m.batches.inc({ kind, outcome: e instanceof DomainError ? e.code : 'internal' });
        throw e;
      } finally {
        end();
      }
    });

  on(ENDPOINTS.uploadLogs, ingestLimit, (c) =>
    deviceBatch('logs', async () => {
      requireJson(c);
      // Parsed and checked off the event loop (ingest/log-parse-pool.ts), fingerprints included.
      const body = await deps.logParser.parse(await bodyBytes(c), Date.now(), window);
      if (!body.ok) throw new DomainError(body.code, body.details);
      const p = c.get('principal');
      const r = await deps.logIngest.ingest(body.logs, p.role === 'device' ? p.subject : null, body.fingerprints);
      m.logsIngested.inc({ result: 'stored' }, r.stored.length - r.duplicates.length);
      if (r.duplicates.length > 0) m.logsIngested.inc({ result: 'duplicate' }, r.duplicates.length);
      return { json: r };
    }),
  );

  on(ENDPOINTS.uploadOutcomes, ingestLimit, (c) =>
    deviceBatch('outcomes', async () => {
      const body = await readTableBody(c, ENDPOINTS.uploadOutcomes);
      const late = outcomesOutsideWindow(body.outcomes, Date.now(), window);
      if (late.length > 0) throw new DomainError('validation-failed', { items: late.slice(0, 200), body: [] });
      const p = c.get('principal');
      const r = await deps.outcomeIngest.ingest(body.outcomes, p.role === 'device' ? p.subject : null);
      m.outcomesIngested.inc({ result: 'stored' }, r.stored.length - r.duplicates.length);
      return { json: r };
    }),
  );

  /** Body: the chart CSV (text/csv). Query `date=YYYY-MM-DD` dates the outcomes (default: latest snapshot_date). */
  on(ENDPOINTS.uploadChartCsv, { middleware: [limitBody(deps.config.csvBodyLimitBytes)] }, async (c, { query }) => {
    const type = c.req.header('content-type') ?? '';
    if (!/^text\/(csv|plain)\b/i.test(type))
      throw new DomainError('unsupported-media-type', { expected: 'text/csv', got: type || null });
    const r = await deps.outcomeIngest.ingestChartCsv(await c.req.text(), query.date);
    m.outcomesIngested.inc({ result: 'stored' }, r.stored);
    return { json: r };
  });

  /**
   * Admin: every outcome with the song's features (NDJSON, one per line), for retraining from the field
   * (`npm run pipeline -- --from-server`). Query `since=YYYY-MM-DD` limits it to outcomes dated since then.
   */
  on(ENDPOINTS.exportOutcomes, {}, async (c, { query }) => {
    const pages = exportOutcomes(deps.store, query.since);
    const enc = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const next = await pages.next();
          if (next.done) controller.close();
          else controller.enqueue(enc.encode(next.value.map((o) => `${JSON.stringify(o)}\n`).join('')));
        } catch (e) {
          deps.log(`outcome export failed: ${e instanceof Error ? e.message : String(e)}`);
          controller.error(e);
        }
      },
      async cancel() {
        await pages.return(undefined);
      },
    });
    return c.body(body, 200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' });
  });

  return app;
}
