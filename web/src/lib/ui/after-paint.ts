/**
 * Runs work after the browser has painted what is on screen now: the log
 * write, the explanation and the map's labels follow a prediction, and must
 * not hold back the frame that shows its probabilities. A frame callback
 * queues a task, which runs after that frame's paint; everything asked for
 * meanwhile shares that one frame callback and task (scheduling costs are
 * paid once per frame, and cancelling is free). Hidden tabs get no frames, so
 * a timer makes sure the work still runs: logs are never held back for long.
 */

const FALLBACK_MS = 100;

const waiting = new Set<() => void>();
let scheduled = false;
let generation = 0;
let fallback: ReturnType<typeof setTimeout> | undefined;

function run(gen: number): void {
  if (gen !== generation) return;
  generation++;
  scheduled = false;
  clearTimeout(fallback);
  const jobs = [...waiting];
  waiting.clear();
  for (const job of jobs) job();
}

/** Calls `fn` once, after the next paint (or after FALLBACK_MS without frames). Returns a cancel function. */
export function afterPaint(fn: () => void, fallbackMs = FALLBACK_MS): () => void {
  // A wrapper per call, so the same function asked for twice runs twice and each cancel removes only its own.
  const job = () => fn();
  waiting.add(job);
  if (!scheduled) {
    scheduled = true;
    const gen = generation;
    fallback = setTimeout(() => run(gen), fallbackMs);
    if (typeof requestAnimationFrame === 'function') requestAnimationFrame(() => setTimeout(() => run(gen), 0));
    else setTimeout(() => run(gen), 0);
  }
  return () => {
    waiting.delete(job);
  };
}
