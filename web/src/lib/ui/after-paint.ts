/**
 * Runs work after the browser has painted what is on screen now: the log
 * write, the explanation and the map's labels follow a prediction, and must
 * not hold back the frame that shows its probabilities. A frame callback
 * queues a task, which runs after that frame's paint; everything asked for
 * meanwhile shares that one frame callback and task (scheduling costs are
 * paid once per frame, and cancelling is free). Hidden tabs get no frames:
 * there a timer runs the work instead, and a page hidden while work waits for
 * its frame runs it at once, so logs are never held back for long. (A timer
 * armed on every call just in case was a measurable cost per click:
 * test/bench/README.md.)
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

const visible = () => typeof document !== 'undefined' && document.visibilityState === 'visible';

if (typeof document !== 'undefined') {
  document.addEventListener('visibilitychange', () => {
    if (scheduled && !visible()) {
      const gen = generation;
      setTimeout(() => run(gen), 0);
    }
  });
}

/** Calls `fn` once, after the next paint (or after FALLBACK_MS where no frames come). Returns a cancel function. */
export function afterPaint(fn: () => void, fallbackMs = FALLBACK_MS): () => void {
  // A wrapper per call, so the same function asked for twice runs twice and each cancel removes only its own.
  const job = () => fn();
  waiting.add(job);
  if (!scheduled) {
    scheduled = true;
    const gen = generation;
    if (typeof requestAnimationFrame === 'function' && visible()) {
      requestAnimationFrame(() => setTimeout(() => run(gen), 0));
    } else {
      fallback = setTimeout(() => run(gen), typeof requestAnimationFrame === 'function' ? fallbackMs : 0);
    }
  }
  return () => {
    waiting.delete(job);
  };
}
