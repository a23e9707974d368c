/**
 * Admin routes for retraining: list and start jobs, switch auto-retraining on
 * alerts on or off, and the chain per job for the dashboard (`retrain-chain.ts`).
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { ENDPOINTS } from '../../model/contract/index.ts';
import type { Deps } from '../deps.ts';
import { DomainError } from '../domain-error.ts';
import type { AuthEnv } from '../http/auth.ts';
import { endpointMounter } from '../http/endpoint-routes.ts';
import type { JobRunner } from './job-runner.ts';
import { buildChain } from './retrain-chain.ts';

export function jobRoutes(deps: Deps & { jobs: JobRunner }) {
  const app = new OpenAPIHono<AuthEnv>();
  const on = endpointMounter(app, deps);
  const jobs = deps.jobs;

  on(ENDPOINTS.listJobs, {}, async () => ({ json: { jobs: await jobs.list(), settings: await jobs.settings() } }));

  on(ENDPOINTS.startJob, {}, async (c, { body }) => {
    const actor = c.get('principal').subject;
    const job = await jobs.start({ trigger: 'manual', actor, ...(body.reason ? { reason: body.reason } : {}) });
    return { json: job };
  });

  on(ENDPOINTS.getJob, {}, async (_c, { params }) => {
    const j = await jobs.get(params.id);
    if (!j) throw new DomainError('not-found', { job: params.id });
    return { json: j };
  });

  on(ENDPOINTS.retrainSettings, {}, async () => ({ json: await jobs.settings() }));
  on(ENDPOINTS.setRetrainSettings, {}, async (c, { body }) => ({
    json: await jobs.setAutoOnAlert(body.autoOnAlert, c.get('principal').subject),
  }));

  on(ENDPOINTS.retrainChains, {}, async () => {
    const list = await jobs.list(20);
    const alertIds = list.map((j) => j.alertId).filter((a): a is string => a !== null);
    const alerts = await deps.alerts.byIds(alertIds);
    const byId = new Map(alerts.map((a) => [a.id, { openedAt: a.openedAt, message: a.message }]));
    const audit = await deps.registry.auditLog(5000);
    return {
      json: {
        settings: await jobs.settings(),
        chains: list.map((j) => buildChain(j, j.alertId ? (byId.get(j.alertId) ?? null) : null, audit)),
      },
    };
  });

  return app;
}
