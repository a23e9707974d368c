/**
 * The model card (`card.json` beside a version, written by the pipeline's step 9): the parts a device shows
 * and a reader relies on — the version it describes, the dataset credit, the split sizes, the fairness line,
 * intended use and limits. The pipeline's full card (training runs, metrics, gate, parity, cross-validation)
 * extends this; those extra sections are kept as sent (`loose`), so a newer pipeline's card still parses.
 *
 * @example
 * const r = ModelCardSchema.safeParse(await res.json()); // r.data.model.version, r.data.limits …
 */
import { z } from 'zod';
import { CountryCodeSchema } from './countries.ts';
import { ManifestSchema, ModelVersionSchema } from './manifest.ts';

export const DatasetCreditSchema = z.object({
  title: z.string(),
  author: z.string(),
  source: z.string(),
  url: z.url(),
});

export const FairnessReportSchema = z.object({
  description: z.string(),
  explicitSongs: z.number().int().nonnegative(),
  nonExplicitSongs: z.number().int().nonnegative(),
  /** Largest |P(country in top 5 | explicit) − P(country in top 5 | not explicit)| over countries. */
  maxAbsSpd: z.number().nullable(),
  maxAbsSpdCountry: CountryCodeSchema.nullable(),
  meanAbsSpd: z.number().nullable(),
});

export const ModelCardSchema = z.looseObject({
  model: z.looseObject({
    version: ModelVersionSchema,
    createdAt: z.string(),
    architecture: ManifestSchema.shape.architecture,
    parameters: z.number().int().nonnegative(),
  }),
  provenance: z.looseObject({ dataset: DatasetCreditSchema }),
  data: z.looseObject({
    songs: z.object({
      train: z.number().int().nonnegative(),
      validation: z.number().int().nonnegative(),
      test: z.number().int().nonnegative(),
      globalOnly: z.number().int().nonnegative(),
    }),
    splitRule: z.string(),
  }),
  fairness: FairnessReportSchema,
  intendedUse: z.string(),
  limits: z.array(z.string()).readonly(),
});
export type ModelCardContent = z.output<typeof ModelCardSchema>;
export type DatasetCredit = z.output<typeof DatasetCreditSchema>;
export type FairnessReport = z.output<typeof FairnessReportSchema>;
