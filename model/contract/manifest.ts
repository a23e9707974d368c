/**
 * The model manifest: everything a device or the server needs to trust, run
 * and monitor one immutable model version.
 */
import { z } from 'zod';
import { sha256Hex } from './canonical.ts';
import { COUNTRY_CODES, CountryCodeSchema } from './countries.ts';
import { FEATURE_NAMES } from './features.ts';
import { ReferenceProfileSchema } from './reference.ts';

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'lowercase hex sha256');

/** A plain file name beside the manifest: letters, digits, `._-`, at most 128, and never `.` or `..`. */
export const ModelFileNameSchema = z
  .string()
  .max(128)
  .regex(/^[A-Za-z0-9._-]+$/, 'a plain file name')
  .refine((p) => p !== '.' && p !== '..', 'a plain file name, not . or ..');

export const ModelFileSchema = z.object({
  /** Relative to the manifest, e.g. "model.json", "weights.bin". */
  path: ModelFileNameSchema,
  sha256: Sha256,
  bytes: z.number().int().nonnegative(),
});
export type ModelFile = z.infer<typeof ModelFileSchema>;

export const MetricsSchema = z.object({
  macroAuc: z.number(),
  microAuc: z.number(),
  top5Hit: z.number(),
  precisionAt5: z.number(),
  recallAt5: z.number(),
  brier: z.number(),
});
export type Metrics = z.infer<typeof MetricsSchema>;

export const ReliabilityBinSchema = z.object({
  lo: z.number(),
  hi: z.number(),
  count: z.number().int().nonnegative(),
  meanPredicted: z.number().nullable(),
  observedRate: z.number().nullable(),
});
export type ReliabilityBin = z.infer<typeof ReliabilityBinSchema>;

export const EvaluationSchema = z.object({
  split: z.enum(['test', 'validation']),
  songs: z.number().int().nonnegative(),
  model: MetricsSchema,
  /** Same metrics for the baselines computed in the same run, e.g. prior, logistic, course-net. */
  baselines: z.record(z.string(), MetricsSchema),
  /** AUC per country; null where the split has no positive or no negative song. */
  perCountryAuc: z.record(CountryCodeSchema, z.number().nullable()),
  reliability: z.array(ReliabilityBinSchema),
});
export type Evaluation = z.infer<typeof EvaluationSchema>;

export const DatasetRefSchema = z.object({
  name: z.string(),
  sha256: Sha256,
  rows: z.number().int().nonnegative(),
});

export const DataSourceSchema = z.object({
  kind: z.enum(['file', 'server-export']),
  name: z.string(),
  sha256: Sha256,
  /** Rows read from it (chart rows, or outcome records for an export). */
  rows: z.number().int().nonnegative(),
  url: z.string().optional(),
  fetchedAt: z.string().optional(),
});
export type DataSource = z.infer<typeof DataSourceSchema>;

export const LineageSchema = z.object({
  datasets: z.array(DatasetRefSchema).min(1),
  codeCommit: z.string(),
  parameters: z.record(z.string(), z.unknown()),
  seed: z.number().int(),
  /**
   * Every source the training rows came from, in order: files given on the command line and exports
   * pulled from a server (`url` set), each with the sha256 of its bytes as read. Optional (older models).
   */
  sources: z.array(DataSourceSchema).optional(),
  /** Version this one was trained to replace, if any. */
  parent: z.string().optional(),
  /**
   * The songs the model learned from (train + validation), as `trainingSongKey` hashes, so monitoring can
   * judge field performance on songs the model did not train on, like the evaluation's test split.
   * Optional (models trained before the field have none).
   */
  trainingSongs: z.array(z.string().regex(/^[0-9a-f]{16}$/)).optional(),
  runId: z.string().optional(),
});
export type Lineage = z.infer<typeof LineageSchema>;

/** The 16-hex key of a song id in `lineage.trainingSongs`: the first 16 hex digits of sha256(id). */
export async function trainingSongKey(songId: string): Promise<string> {
  return (await sha256Hex(songId)).slice(0, 16);
}

export const SignatureSchema = z.object({
  algorithm: z.literal('ECDSA-P256-SHA256'),
  /** sha256 (hex) of the public key's raw bytes, so a device can tell which key signed. */
  keyId: z.string(),
  /** base64 of the IEEE P1363 (r||s) signature over canonicalManifestBytes(). */
  value: z.string(),
});
export type Signature = z.infer<typeof SignatureSchema>;

/**
 * The model card's human part, carried in the (signed) manifest so the dashboard and the device can show
 * it for every version: what it was trained on, how it was judged, what it must not be used for.
 * Optional: versions published before cards were embedded have none.
 */
export const ModelCardSummarySchema = z.object({
  intendedUse: z.string(),
  limits: z.array(z.string()),
  /** One sentence on the data: sources and songs per split. */
  trainedOn: z.string(),
  /** The quality gate's checks, one sentence each, as the run recorded them. */
  gate: z.array(z.string()).optional(),
});
export type ModelCardSummary = z.infer<typeof ModelCardSummarySchema>;

/**
 * What a prediction for one country should be read against: how often songs chart there at all, and how well
 * the model ranks songs there on held-out songs (AUC with a 95% interval, so a device can say where it is weak).
 */
export const CountryFactSchema = z.object({
  /** Share of the training songs (train + validation) that charted in this country. */
  baseRate: z.number().min(0).max(1),
  /** Held-out AUC (as `evaluation.perCountryAuc`); null where the split has no positive or no negative song. */
  auc: z.number().min(0).max(1).nullable(),
  /** 95% interval of that AUC (Hanley–McNeil), clipped to [0, 1]; null with `auc`. */
  aucLow: z.number().min(0).max(1).nullable(),
  aucHigh: z.number().min(0).max(1).nullable(),
  /** Held-out songs that charted / did not chart here: how much evidence the AUC rests on. */
  positives: z.number().int().nonnegative(),
  negatives: z.number().int().nonnegative(),
});
export type CountryFact = z.infer<typeof CountryFactSchema>;

export const CountryFactsSchema = z.object({
  /** Songs the base rates were counted on. */
  songs: z.number().int().positive(),
  byCountry: z.record(CountryCodeSchema, CountryFactSchema),
});
export type CountryFacts = z.infer<typeof CountryFactsSchema>;

/** What real charting songs look like, per feature: changes the app suggests stay within these. */
export const FeatureBoundsSchema = z.object({
  songs: z.number().int().positive(),
  /** The quantiles taken, e.g. [0.01, 0.99]. */
  quantiles: z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]),
  byFeature: z.record(z.enum(FEATURE_NAMES), z.object({ low: z.number().finite(), high: z.number().finite() })),
});
export type FeatureBounds = z.infer<typeof FeatureBoundsSchema>;

/**
 * Model version ids are content-addressed: "v" + first 12 hex of the sha256
 * over the sorted file hashes (see model/contract/canonical.ts).
 */
export const ModelVersionSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/);

/**
 * The least parity tolerance a device applies, whatever a manifest says: float32 on a GPU (or our SIMD kernel)
 * rounds differently from the pipeline's float32 CPU run in the last bits. The pipeline writes it as the
 * manifest's `parity.tolerance`; the warm-up check (`model/runtime/warm-up-check.ts`) floors at it.
 */
export const DEVICE_PARITY_TOLERANCE = 1e-4;

export const ManifestSchema = z.object({
  schemaVersion: z.literal(1),
  version: ModelVersionSchema,
  createdAt: z.iso.datetime(),
  /** Model weights format; the loader in model/runtime reads this one. */
  format: z.literal('tfjs-layers'),
  files: z
    .array(ModelFileSchema)
    .min(1)
    .max(64)
    .refine((fs) => new Set(fs.map((f) => f.path)).size === fs.length, 'each file is listed once'),
  input: z.object({
    features: z.tuple(FEATURE_NAMES.map((n) => z.literal(n)) as never) as unknown as z.ZodType<typeof FEATURE_NAMES>,
    dtype: z.literal('float32'),
    /** Scaling happens inside the model; callers pass raw values. */
    scaling: z.literal('inside-model'),
  }),
  output: z.object({
    countries: z.tuple(COUNTRY_CODES.map((c) => z.literal(c)) as never) as unknown as z.ZodType<typeof COUNTRY_CODES>,
    activation: z.literal('sigmoid'),
  }),
  architecture: z.object({
    hidden: z.array(z.number().int().positive()),
    activation: z.string(),
    parameters: z.number().int().positive(),
    /** Boosted trees beside the Dense stack (trees.bin), where the model has them. */
    trees: z
      .object({ count: z.number().int().positive(), leaves: z.number().int().positive(), depth: z.number().int() })
      .optional(),
  }),
  evaluation: EvaluationSchema,
  lineage: LineageSchema,
  reference: ReferenceProfileSchema,
  /** A few inputs with the outputs the exported model must reproduce (device warm-up parity check). */
  parity: z.object({
    tolerance: z.number().positive(),
    inputs: z.array(z.array(z.number()).length(FEATURE_NAMES.length)).min(1),
    outputs: z.array(z.array(z.number()).length(COUNTRY_CODES.length)).min(1),
  }),
  card: ModelCardSummarySchema.optional(),
  /** Per-country base rate and AUC with interval. Optional: versions before it have none. */
  countryFacts: CountryFactsSchema.optional(),
  /** Per-feature bounds of real charting songs (1st–99th percentile of training songs). Optional likewise. */
  featureBounds: FeatureBoundsSchema.optional(),
  signature: SignatureSchema.optional(),
});
export type Manifest = z.infer<typeof ManifestSchema>;
