/**
 * What every pipeline step receives: the run's options, the step cache, the
 * run's log (kept in the run record as well) and the tfjs backend, started
 * on first use (cached runs never start it).
 */
import { useBackend } from './backend.ts';
import type { StepCache } from './cache.ts';
import type { PipelineOptions } from './run-pipeline.ts';

export interface StepContext {
  readonly o: PipelineOptions;
  readonly cache: StepCache;
  /** A line for the log and for the run record's messages. */
  readonly say: (line: string) => void;
  /** Starts the wasm backend once; steps that train or predict call it inside their compute. */
  readonly backend: () => Promise<void>;
}

export function stepContext(o: PipelineOptions, cache: StepCache, say: (line: string) => void): StepContext {
  let ready = false;
  return {
    o,
    cache,
    say,
    backend: async () => {
      if (!ready) await useBackend('wasm');
      ready = true;
    },
  };
}
