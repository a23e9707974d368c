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

export type TrafficKind = 'interactive' | 'batch' | 'shadow' | 'test';

/** Which statistic decided a status, against which threshold, with what evidence (server/drift/report.ts). */
export interface Decision {
  statistic: 'psi' | 'js' | 'psi-excess';
  value: number;
  threshold: number;
  evidence: string;
  reason: string;
}

export interface NullDistribution {
  n: number;
  median: number;
  q95: number;
  q99: number;
}

export interface FeatureDrift {
  name: string;
  psi: number;
  ksStatistic: number;
  ksPValue: number;
  ksPValueAdjusted: number;
  jsDistance: number;
  status: Status;
  decision: Decision | null;
  edges: number[];
  reference: number[];
  observed: number[];
  observedRaw: number[];
}

export interface DriftReport {
  version: string;
  window: { from: string; to: string };
  kinds: TrafficKind[];
  rows: number;
  distinct: number;
  effectiveN: number;
  devices: Record<string, number>;
  deviceWeights: Record<string, number>;
  days: number;
  status: Status;
  note: string | null;
  features: FeatureDrift[];
  outputs: {
    top1Psi: number;
    top1JsDistance: number;
    top1Null: NullDistribution;
    entropyPsi: number;
    entropyNull: NullDistribution;
    status: Status;
    decision: Decision | null;
    top1Reference: number[];
    top1Observed: number[];
    meanProbabilityReference: number[];
    meanProbabilityObserved: number[];
    maxMeanShift: { country: string; delta: number };
  };
  countingRule: string;
  thresholds: Record<string, number | string>;
  computeMs: number;
}

export interface PeriodSummary {
  period: string;
  rows: number;
  distinct: number;
  status: Status;
  features: {
    name: string;
    psi: number;
    ksPValueAdjusted: number;
    jsDistance: number;
    status: Status;
    decision: Decision | null;
  }[];
  outputs: {
    top1Psi: number;
    top1PsiExcess: number;
    entropyPsi: number;
    entropyPsiExcess: number;
    status: Status;
    maxMeanShift: { country: string; delta: number };
  };
}

export interface Interval {
  value: number;
  lo: number;
  hi: number;
}

export interface PerformancePoint {
  period: string;
  outcomes: number;
  matched: number;
  unmatched: number;
  unmatchedReasons: { noPrediction: number; predictedAfter: number; tooOld: number };
  songs: number;
  songsCharted: number;
  countries: number;
  enough: boolean;
  note: string | null;
  macroAuc: Interval | null;
  pooledAuc: Interval | null;
  top5Hit: Interval | null;
  auc: number | null;
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
