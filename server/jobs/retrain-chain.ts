/**
 * A retraining job's story for the dashboard: alert → run → candidate → canary → promoted or rolled back, from
 * the job, the alert that started it and the registry's audit entries that name its candidate.
 */
import type { ChainOutcome, ChainStep, RetrainChain } from '../../model/contract/index.ts';
import type { AuditEntry } from '../registry/audit.ts';
import type { JobView } from './job-runner.ts';

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
