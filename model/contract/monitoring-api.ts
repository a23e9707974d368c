/**
 * What the monitoring API answers: drift report and time series, performance (concept drift) from outcomes,
 * the shadow comparison, the dashboard's overview. One schema each, so the server that computes them and the
 * dashboard that draws them agree on every field.
 */
import { z } from 'zod';
import { AlertViewSchema, RolloutSchema } from './admin-api.ts';
import { MetricsSchema, ModelVersionSchema } from './manifest.ts';
import { TRAFFIC_KINDS, type TrafficKind, TrafficKindSchema } from './prediction-log.ts';

export const DRIFT_STATUSES = ['ok', 'warn', 'alert', 'insufficient-data'] as const;
export const DriftStatusSchema = z.enum(DRIFT_STATUSES);
export type DriftStatus = z.infer<typeof DriftStatusSchema>;

/** Drift defaults to interactive traffic: what marketers asked about, not batch scoring or tests. */
export const DEFAULT_DRIFT_KINDS: readonly TrafficKind[] = ['interactive'];

const Day = z.iso.date();
export const WindowSchema = z.object({ from: Day, to: Day });

/**
 * The query of every monitoring route: a version, a window of UTC days (default: the alert window ending
 * today), `day` or `week` periods, and the traffic kinds (comma-separated, or `all`; default interactive).
 */
export const MonitoringQuerySchema = z.object({
  version: ModelVersionSchema,
  from: Day.optional(),
  to: Day.optional(),
  granularity: z.enum(['day', 'week']).default('day'),
  kind: z
    .string()
    .optional()
    .transform((v, ctx): TrafficKind[] => {
      if (v === undefined || v === '') return [...DEFAULT_DRIFT_KINDS];
      if (v === 'all') return [...TRAFFIC_KINDS];
      const out: TrafficKind[] = [];
      for (const k of v.split(',')) {
        const r = TrafficKindSchema.safeParse(k.trim());
        if (!r.success) {
          ctx.addIssue({ code: 'custom', message: `kind must be all or a list of ${TRAFFIC_KINDS.join(', ')}` });
          return z.NEVER;
        }
        out.push(r.data);
      }
      return out;
    }),
});
export type MonitoringQuery = z.output<typeof MonitoringQuerySchema>;

/** Which statistic decided a status, against which threshold, with what evidence. */
export const DecisionSchema = z.object({
  statistic: z.enum(['psi', 'js', 'psi-excess']),
  value: z.number(),
  threshold: z.number(),
  evidence: z.string(),
  reason: z.string(),
});
export type Decision = z.infer<typeof DecisionSchema>;

/** A bootstrap null of a PSI at the window's n. */
export const NullDistributionSchema = z.object({ n: z.number(), median: z.number(), q95: z.number(), q99: z.number() });

export const FeatureDriftSchema = z.object({
  name: z.string(),
  psi: z.number(),
  ksStatistic: z.number(),
  ksPValue: z.number(),
  ksPValueAdjusted: z.number(),
  jsDistance: z.number(),
  status: DriftStatusSchema,
  decision: DecisionSchema.nullable(),
  edges: z.array(z.number()),
  reference: z.array(z.number()),
  observed: z.array(z.number()),
  observedRaw: z.array(z.number()),
});

const MaxMeanShiftSchema = z.object({ country: z.string(), delta: z.number() });

/** `GET /drift/report`: the window's drift per feature and of the outputs. */
export const DriftReportSchema = z.object({
  version: z.string(),
  window: WindowSchema,
  days: z.number(),
  kinds: z.array(TrafficKindSchema),
  rows: z.number(),
  distinct: z.number(),
  effectiveN: z.number(),
  devices: z.record(z.string(), z.number()),
  deviceWeights: z.record(z.string(), z.number()),
  status: DriftStatusSchema,
  note: z.string().nullable(),
  features: z.array(FeatureDriftSchema),
  outputs: z.object({
    top1Psi: z.number(),
    top1JsDistance: z.number(),
    top1Null: NullDistributionSchema,
    entropyPsi: z.number(),
    entropyNull: NullDistributionSchema,
    status: DriftStatusSchema,
    decision: DecisionSchema.nullable(),
    top1Reference: z.array(z.number()),
    top1Observed: z.array(z.number()),
    meanProbabilityReference: z.array(z.number()),
    meanProbabilityObserved: z.array(z.number()),
    maxMeanShift: MaxMeanShiftSchema,
    entropyEdges: z.array(z.number()),
    entropyReference: z.array(z.number()),
    entropyObserved: z.array(z.number()),
  }),
  countingRule: z.string(),
  thresholds: z.record(z.string(), z.union([z.number(), z.string()])),
  computeMs: z.number(),
});
export type DriftReport = z.infer<typeof DriftReportSchema>;

/** One day or ISO week of the drift time series: each song once per period. */
export const PeriodSummarySchema = z.object({
  period: z.string(),
  rows: z.number(),
  distinct: z.number(),
  status: DriftStatusSchema,
  features: z.array(
    z.object({
      name: z.string(),
      psi: z.number(),
      ksPValueAdjusted: z.number(),
      jsDistance: z.number(),
      status: DriftStatusSchema,
      decision: DecisionSchema.nullable(),
    }),
  ),
  outputs: z.object({
    top1Psi: z.number(),
    top1PsiExcess: z.number(),
    entropyPsi: z.number(),
    entropyPsiExcess: z.number(),
    status: DriftStatusSchema,
    maxMeanShift: MaxMeanShiftSchema,
  }),
});
export type PeriodSummary = z.infer<typeof PeriodSummarySchema>;

const GranularitySchema = z.enum(['day', 'week']);

export const DriftTimeseriesSchema = z.object({
  version: z.string(),
  window: WindowSchema,
  granularity: GranularitySchema,
  kinds: z.array(TrafficKindSchema),
  countingRule: z.string(),
  points: z.array(PeriodSummarySchema),
});

/** A value with its 95 % bootstrap interval. */
export const IntervalSchema = z.object({ value: z.number(), lo: z.number(), hi: z.number() });
export type Interval = z.infer<typeof IntervalSchema>;

export const PerformancePointSchema = z.object({
  period: z.string(),
  outcomes: z.number(),
  matched: z.number(),
  unmatched: z.number(),
  unmatchedReasons: z.object({ noPrediction: z.number(), predictedAfter: z.number(), tooOld: z.number() }),
  songs: z.number(),
  songsCharted: z.number(),
  countries: z.number(),
  enough: z.boolean(),
  note: z.string().nullable(),
  macroAuc: IntervalSchema.nullable(),
  pooledAuc: IntervalSchema.nullable(),
  top5Hit: IntervalSchema.nullable(),
  auc: z.number().nullable(),
});
export type PerformancePoint = z.infer<typeof PerformancePointSchema>;

/** `GET /performance`: concept drift per period and over the window, beside what the manifest evaluated. */
export const PerformanceReportSchema = z.object({
  version: z.string(),
  window: WindowSchema,
  granularity: GranularitySchema,
  kinds: z.array(TrafficKindSchema),
  evaluated: MetricsSchema.nullable(),
  evaluatedSongs: z.number().nullable(),
  matching: z.string(),
  total: PerformancePointSchema.nullable(),
  points: z.array(PerformancePointSchema),
});

export const ShadowSummarySchema = z.object({
  n: z.number(),
  top1Agreement: z.number().nullable(),
  top1InActiveTop5: z.number().nullable(),
  meanAbsDiff: z.number().nullable(),
  meanShadowLatencyMs: z.number().nullable(),
});
export type ShadowSummary = z.infer<typeof ShadowSummarySchema>;

/** `GET /shadow`: per candidate run beside the version, the window's summary and one point per day. */
export const ShadowReportSchema = z.object({
  version: z.string(),
  window: WindowSchema,
  shadows: z.array(
    z.object({
      shadow: z.string(),
      summary: ShadowSummarySchema,
      days: z.array(ShadowSummarySchema.extend({ day: z.string() })),
    }),
  ),
});

export const AlertListSchema = z.object({ alerts: z.array(AlertViewSchema) });
export const AlertEvaluationSchema = z.object({ open: z.array(AlertViewSchema) });

/** `GET /overview`: counts for the dashboard's first page. */
export const OverviewSchema = z.object({
  logsPerVersion: z.record(z.string(), z.object({ rows: z.number(), distinct: z.number() })),
  devices: z.number(),
  outcomes: z.number(),
  chartOutcomes: z.number(),
  openAlerts: z.number(),
  rollout: RolloutSchema,
});
export type Overview = z.infer<typeof OverviewSchema>;
