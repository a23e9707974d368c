/**
 * What the admin API answers about alerts and retraining jobs: one schema each, so the server that builds
 * these views and the dashboard that shows them agree on every field.
 */
import { z } from 'zod';

/** A drift or performance alert (open while `resolvedAt` is null). */
export const AlertViewSchema = z.object({
  id: z.string(),
  version: z.string(),
  metric: z.string(),
  feature: z.string().nullable(),
  severity: z.string(),
  /**
   * The statistic whose value and threshold these are: `psi` or `js` (feature drift, decided on effect size
   * with a KS guard), `psi-excess` (output PSI above what chance gives at the window's n),
   * `macro-auc-drop` (performance). Null on episodes stored before the field.
   */
  statistic: z.string().nullable().optional(),
  value: z.number(),
  threshold: z.number(),
  message: z.string(),
  openedAt: z.string(),
  updatedAt: z.string(),
  resolvedAt: z.string().nullable(),
  /** When the webhook was told about this episode. */
  notifiedAt: z.string().nullable(),
});
export type AlertView = z.infer<typeof AlertViewSchema>;

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** A retraining job: the command the server ran, how it ended, and the candidate it published. */
export const JobViewSchema = z.object({
  id: z.string(),
  kind: z.string(),
  status: z.enum(JOB_STATUSES),
  trigger: z.enum(['alert', 'manual']),
  alertId: z.string().nullable(),
  requestedBy: z.string(),
  command: z.string(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  exitCode: z.number().int().nullable(),
  logTail: z.string(),
  candidateVersion: z.string().nullable(),
});
export type JobView = z.infer<typeof JobViewSchema>;

export const RetrainSettingsSchema = z.object({
  /** Whether a new alert starts a job. */
  autoOnAlert: z.boolean(),
  /** Where autoOnAlert comes from: the dashboard's toggle, or the RETRAIN_ON_ALERT default. */
  source: z.enum(['setting', 'config']),
  /** The configured command (null: jobs cannot run). */
  command: z.string().nullable(),
});
export type RetrainSettings = z.infer<typeof RetrainSettingsSchema>;
