/**
 * One summary line per measured comparison, printed by every benchmark so
 * that `npm run bench` (test/bench/all.ts) can gather them into one table.
 * Each benchmark still prints its own detailed table for humans.
 */
export interface BenchResult {
  /** Which benchmark script produced it, e.g. "ingest". */
  readonly bench: string;
  readonly metric: string;
  readonly ours: string;
  /** The peer or baseline measured in the same run, with its value. */
  readonly peer: string;
  /** ours ÷ peer (or the speed-up), as printed. */
  readonly ratio: string;
  /** The target and whether it was met. */
  readonly target: string;
}

export const RESULT_PREFIX = 'BENCH-RESULT ';

/** Every benchmark `npm run bench` runs, by name (also the names `bench:ab` takes). */
export const BENCH_SCRIPTS: Readonly<Record<string, string>> = {
  pipeline: 'test/bench/pipeline.ts',
  web: 'test/bench/web.ts',
  ingest: 'test/bench/ingest.ts',
  drift: 'test/bench/drift.ts',
  shadow: 'test/bench/shadow.ts',
  batch: 'test/bench/field-batch.ts',
};

export function emitResult(r: BenchResult): void {
  console.log(`${RESULT_PREFIX}${JSON.stringify(r)}`);
}

export function parseResults(stdout: string): BenchResult[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith(RESULT_PREFIX))
    .map((l) => JSON.parse(l.slice(RESULT_PREFIX.length)) as BenchResult);
}

/** "OK" or "MISS" after a target, so a reader sees at a glance which targets were met. */
export function verdict(met: boolean): string {
  return met ? 'OK' : 'MISS';
}
