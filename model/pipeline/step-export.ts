/**
 * Steps 7–9: export the shipped weights as tfjs layers files (scaling folded into layer 1), check parity with
 * the app's loader, and the reference profile the drift report compares the field with.
 */
import { FEATURE_NAMES } from '../contract/index.ts';
import { cachedStep, type StepOutcome } from './cache.ts';
import { predictInMemory } from './evaluate.ts';
import { exportLayersModel, foldScaler } from './export-model.ts';
import { checkParity, deviceParitySection, predictExported } from './parity.ts';
import { PipelineError } from './problems.ts';
import { referenceProfile } from './reference-profile.ts';
import { applyScaler } from './scaler.ts';
import type { StepContext } from './step-context.ts';
import type { SplitStep, Targets } from './step-data.ts';
import type { Shipped } from './step-gate.ts';
import type { Evaluated } from './step-train.ts';
import { featureMatrix } from './targets.ts';

export function exportStep(ctx: StepContext, ship: Shipped, split: SplitStep) {
  return cachedStep(ctx.cache, 'export', { model: ship.key, split: split.key }, async () => {
    await ctx.backend();
    const raw = foldScaler(ship.weights, ship.scaler);
    const hidden = raw.layers.slice(0, -1).map((l) => l.units);
    return exportLayersModel(raw, hidden, ctx.o.model.dropout, ctx.o.seed);
  });
}

export type Exported = Awaited<ReturnType<typeof exportStep>>;

/** Parity of the exported files, loaded as the app loads them, with the in-memory model that ships. */
export async function parityStep(
  ctx: StepContext,
  exported: Exported,
  evaluation: Evaluated,
  ship: Shipped,
  split: SplitStep,
) {
  const { test } = split;
  const parity = await cachedStep(
    ctx.cache,
    'parity',
    { export: exported.key, evaluate: evaluation.key, ship: ship.key, tolerance: ctx.o.parityTolerance },
    async () => {
      await ctx.backend();
      // Against the in-memory model that ships (the refit scores the test songs with its own scaler).
      const expected = ship.refit
        ? predictInMemory(ship.weights, applyScaler(test.raw, ship.scaler), test.rows)
        : evaluation.value.modelTest;
      return {
        report: await checkParity(exported.value, test.raw, test.rows, expected, ctx.o.parityTolerance),
        section: await deviceParitySection(exported.value, test.raw, test.rows, FEATURE_NAMES.length),
      };
    },
  );
  const report = parity.value.report;
  ctx.say(
    `parity: max abs diff ${report.maxAbsDiff.toExponential(2)} on ${report.rows} test songs (tolerance ${report.tolerance})`,
  );
  if (!report.passed) {
    throw new PipelineError('parity-failed', `exported model differs from the trained model by ${report.maxAbsDiff}`);
  }
  return parity;
}

/**
 * Reference profile on the songs the shipped model learned from (train + validation; the refit's: all songs),
 * with the exported model's outputs.
 */
export function referenceStep(
  ctx: StepContext,
  exported: StepOutcome<Exported['value']>,
  split: { key: string; train: SplitStep['train']; val: SplitStep['val'] },
  ship: Shipped,
  targets: Targets,
) {
  return cachedStep(ctx.cache, 'reference', { export: exported.key, split: split.key }, async () => {
    await ctx.backend();
    if (ship.refit) {
      const all = featureMatrix(targets.songs);
      const n = targets.songs.length;
      return referenceProfile(all, await predictExported(exported.value, all, n), n);
    }
    const { train, val } = split;
    const rows = train.rows + val.rows;
    const raw = new Float32Array(rows * FEATURE_NAMES.length);
    raw.set(train.raw, 0);
    raw.set(val.raw, train.raw.length);
    return referenceProfile(raw, await predictExported(exported.value, raw, rows), rows);
  });
}
