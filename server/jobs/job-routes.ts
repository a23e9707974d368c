/**
 * Admin routes for retraining: list and start jobs, switch auto-retraining on
 * alerts on or off, and the chain per job for the dashboard: alert → run →
 * candidate → canary → promoted or rolled back (from jobs, alerts and the
 * registry's audit log).
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { safeText } from '../../model/contract/index.ts';
import type { Deps } from '../deps.ts';
import { type AuthEnv, requireRole } from '../http/auth.ts';
import { ApiError } from '../http/errors.ts';
import { readBody } from '../http/json-body.ts';
import type { AuditEntry } from '../registry/audit.ts';
import type { JobRunner, JobView } from './job-runner.ts';

export const StartSchema = z.strictObject({ reason: safeText(200).optional() });
export const SettingsSchema = z.strictObject({ autoOnAlert: z.boolean() });

export type ChainOutcome = 'running' | 'failed' | 'no-candidate' | 'candidate' | 'canary' | 'promoted' | 'rolled-back';

export interface ChainStep {
  step: 'alert' | 'run' | 'candidate' | 'canary' | 'promoted' | 'rolled-back' | 'archived';
  at: string | null;
  actor: string | null;
  summary: string;
}

export interface RetrainChain {
  job: JobView;
  outcome: ChainOutcome;
  steps: ChainStep[];
}

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
  const app = new Hono<AuthEnv>();
  const admin = requireRole(deps, 'admin');
  const jobs = deps.jobs;

  app.get('/jobs', admin, async (c) => c.json({ jobs: await jobs.list(), settings: await jobs.settings() }));

  app.post('/jobs', admin, async (c) => {
    const empty = c.req.raw.body === null || c.req.header('content-length') === '0';
    const body = empty ? {} : await readBody(c, StartSchema);
    const actor = c.get('principal').subject;
    const job = await jobs.start({ trigger: 'manual', actor, ...(body.reason ? { reason: body.reason } : {}) });
    return c.json(job, 202);
  });

  app.get('/jobs/:id', admin, async (c) => {
    const j = await jobs.get(c.req.param('id'));
    if (!j) throw new ApiError('not-found', { job: c.req.param('id') });
    return c.json(j);
  });

  app.get('/settings/retrain', admin, async (c) => c.json(await jobs.settings()));
  app.put('/settings/retrain', admin, async (c) => {
    const body = await readBody(c, SettingsSchema);
    return c.json(await jobs.setAutoOnAlert(body.autoOnAlert, c.get('principal').subject));
  });

  app.get('/retraining/chains', admin, async (c) => {
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
    return c.json({
      settings: await jobs.settings(),
      chains: list.map((j) => buildChain(j, j.alertId ? (byId.get(j.alertId) ?? null) : null, audit)),
    });
  });

  return app;
}
