/**
 * Admin routes for retraining: list and start jobs, switch auto-retraining on
 * alerts on or off, and the chain per job for the dashboard: alert → run →
 * candidate → canary → promoted or rolled back (from jobs, alerts and the
 * registry's audit log).
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { type ChainOutcome, type ChainStep, ENDPOINTS, type RetrainChain } from '../../model/contract/index.ts';
import type { Deps } from '../deps.ts';
import type { AuthEnv } from '../http/auth.ts';
import { endpointMounter } from '../http/endpoint-routes.ts';
import { ApiError } from '../http/errors.ts';
import type { AuditEntry } from '../registry/audit.ts';
import type { JobRunner, JobView } from './job-runner.ts';

/** What happened to a job's candidate, in time order, from the audit entries that name it. */
export function buildChain(
  job: JobView,
  alert: { openedAt: string; message: string } | null,
  audit: AuditEntry[],
): RetrainChain {
  const steps: ChainStep[] = [];
  if (alert) steps.push({ step: 'alert', at: alert.openedAt, actor: 'alerts', summary: alert.message });
  steps.push({
    step: 'run',
    at: job.startedAt ?? job.createdAt,
    actor: job.requestedBy,
    summary: `${job.status}${job.exitCode !== null ? ` (exit ${job.exitCode})` : ''}`,
  });
  let outcome: ChainOutcome =
    job.status === 'queued' || job.status === 'running'
      ? 'running'
      : job.status === 'failed'
        ? 'failed'
        : 'no-candidate';
  const v = job.candidateVersion;
  if (v) {
    outcome = 'candidate';
    const mine = audit
      .filter((e) => {
        const d = (e.details ?? {}) as Record<string, unknown>;
        return d.version === v || d.from === v;
      })
      .sort((a, b) => a.id.localeCompare(b.id));
    for (const e of mine) {
      const d = e.details as Record<string, unknown>;
      if (e.action === 'publish')
        steps.push({ step: 'candidate', at: e.at, actor: e.actor, summary: `published ${v}` });
      else if (e.action === 'canary') {
        steps.push({ step: 'canary', at: e.at, actor: e.actor, summary: `canary on ${String(d.percent)}% of devices` });
        outcome = 'canary';
      } else if (e.action === 'promote') {
        steps.push({
          step: 'promoted',
          at: e.at,
          actor: e.actor,
          summary: `production (replaced ${String(d.previousProduction)})`,
        });
        outcome = 'promoted';
      } else if (e.action === 'rollback-canary' || (e.action === 'rollback' && d.from === v)) {
        steps.push({
          step: 'rolled-back',
          at: e.at,
          actor: e.actor,
          summary: e.action === 'rollback' ? `rolled back to ${String(d.to)}` : 'canary ended',
        });
        outcome = 'rolled-back';
      } else if (e.action === 'archive') {
        steps.push({ step: 'archived', at: e.at, actor: e.actor, summary: 'archived' });
      }
    }
  }
  return { job, outcome, steps };
}

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
    if (!j) throw new ApiError('not-found', { job: params.id });
    return { json: j };
  });

  on(ENDPOINTS.retrainSettings, {}, async () => ({ json: await jobs.settings() }));
  on(ENDPOINTS.setRetrainSettings, {}, async (c, { body }) => ({
    json: await jobs.setAutoOnAlert(body.autoOnAlert, c.get('principal').subject),
  }));

  on(ENDPOINTS.retrainChains, {}, async () => {
    const list = await jobs.list(20);
    const alertIds = list.map((j) => j.alertId).filter((a): a is string => a !== null);
    const alerts = alertIds.length
      ? await deps.store.db
          .selectFrom('alerts')
          .select(['id', 'opened_at', 'message'])
          .where('id', 'in', alertIds)
          .execute()
      : [];
    const byId = new Map(alerts.map((a) => [a.id, { openedAt: a.opened_at, message: a.message }]));
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
