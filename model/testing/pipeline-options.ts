/**
 * Pipeline options for a run in a throwaway folder (integration tests, the pipeline benchmark): model, cache and
 * run records under one folder, no production model to compare with, no progress or log output; optionally with
 * networks small enough for a test.
 */
import { join } from 'node:path';
import { DEFAULT_OPTIONS, type NetworkParams } from '../pipeline/run-pipeline.ts';

export function throwawayRunOptions(dir: string, data: readonly string[]) {
  return {
    ...DEFAULT_OPTIONS,
    data,
    out: join(dir, 'model'),
    cacheDir: join(dir, 'cache'),
    runsDir: join(dir, 'runs'),
    production: null,
    progress: false,
    log: () => {},
  };
}

export interface SmallTraining {
  /** Ensemble members of a network with hidden layers (one without stays a single member). */
  readonly members: number;
  readonly maxEpochs: number;
  readonly patience: number;
}

/** One hidden layer of 32 (a network without hidden layers keeps none), trained briefly. */
export const smallNetwork = (p: NetworkParams, t: SmallTraining): NetworkParams => ({
  ...p,
  hidden: p.hidden.length ? [32] : [],
  members: p.hidden.length ? t.members : 1,
  maxEpochs: t.maxEpochs,
  patience: t.patience,
  learningRate: 0.01,
});

/** throwawayRunOptions with a small model, a briefly trained logistic baseline and a single small course net. */
export function smallRunOptions(dir: string, data: readonly string[], t: SmallTraining) {
  return {
    ...throwawayRunOptions(dir, data),
    model: smallNetwork(DEFAULT_OPTIONS.model, t),
    logistic: { ...DEFAULT_OPTIONS.logistic, maxEpochs: t.maxEpochs },
    course: smallNetwork(DEFAULT_OPTIONS.course, { ...t, members: 1 }),
  };
}
