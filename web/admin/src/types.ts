/** Shapes of the admin API answers the dashboard reads (see server/routes/*.ts and /api/v1/openapi.json). */
import type { AlertView as Alert, JobView as Job, RetrainSettings } from '../../../model/contract/admin-api.ts';
import type { Manifest } from '../../../model/contract/manifest.ts';

export type { Alert, Job, RetrainSettings };

export type Status = 'ok' | 'warn' | 'alert' | 'insufficient-data';

export interface Rollout {
  production: string | null;
  canary: string | null;
  canaryPercent: number;
  shadow: string | null;
  updatedAt: string;
  updatedBy: string;
}

export interface ModelSummary {
  version: string;
  stage: 'candidate' | 'canary' | 'production' | 'archived';
  createdAt: string;
  publishedAt: string;
  publishedBy: string;
  replaced: string | null;
  manifest: Manifest;
}

export interface FeatureDrift {
  name: string;
  psi: number;
  ksStatistic: number;
  ksPValue: number;
  ksPValueAdjusted: number;
  jsDistance: number;
  status: Status;
  edges: number[];
  reference: number[];
  observed: number[];
  observedRaw: number[];
}

export interface DriftReport {
  version: string;
  window: { from: string; to: string };
  rows: number;
  distinct: number;
  days: number;
  status: Status;
  features: FeatureDrift[];
  outputs: {
    top1Psi: number;
    top1JsDistance: number;
    entropyPsi: number;
    status: Status;
    top1Reference: number[];
    top1Observed: number[];
    meanProbabilityReference: number[];
    meanProbabilityObserved: number[];
    maxMeanShift: { country: string; delta: number };
  };
  countingRule: string;
  computeMs: number;
}

export interface PeriodSummary {
  period: string;
  rows: number;
  distinct: number;
  status: Status;
  features: { name: string; psi: number; ksPValueAdjusted: number; jsDistance: number; status: Status }[];
  outputs: { top1Psi: number; entropyPsi: number; status: Status; maxMeanShift: { country: string; delta: number } };
}

export interface PerformancePoint {
  period: string;
  outcomes: number;
  matched: number;
  auc: number | null;
  top5Hit: number | null;
  songs: number;
}

export interface Device {
  id: string;
  label: string | null;
  enrolledAt: string;
  lastSeenAt: string | null;
  lastPredictionAt: string | null;
  lastVersion: string | null;
  logsTotal: number;
  revokedAt: string | null;
  unsyncedEstimate: number;
}

export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  details: Record<string, unknown>;
}

export interface RetrainChain {
  job: Job;
  outcome: 'running' | 'failed' | 'no-candidate' | 'candidate' | 'canary' | 'promoted' | 'rolled-back';
  steps: { step: string; at: string | null; actor: string | null; summary: string }[];
}

export interface ShadowSummary {
  n: number;
  top1Agreement: number | null;
  top1InActiveTop5: number | null;
  meanAbsDiff: number | null;
  meanShadowLatencyMs: number | null;
}
