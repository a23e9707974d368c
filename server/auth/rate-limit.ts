/**
 * Per-token rate limit: a fixed one-minute window counted in memory (per
 * server instance). Answers 429 `rate-limited` with Retry-After.
 */
export class RateLimiter {
  readonly #windows = new Map<string, { start: number; count: number }>();
  readonly #perMinute: number;
  readonly #now: () => number;
  constructor(perMinute: number, now: () => number = Date.now) {
    this.#perMinute = perMinute;
    this.#now = now;
  }

  /** Seconds to wait while `key` is over its limit (without counting a hit), else 0. */
  waitFor(key: string): number {
    const t = this.#now();
    const w = this.#windows.get(key);
    if (!w || t - w.start >= 60_000 || w.count < this.#perMinute) return 0;
    return Math.ceil((w.start + 60_000 - t) / 1000);
  }

  /** Seconds to wait, or 0 when the request may go ahead. */
  hit(key: string): number {
    const t = this.#now();
    let w = this.#windows.get(key);
    if (!w || t - w.start >= 60_000) {
      if (this.#windows.size > 50_000) this.#windows.clear();
      w = { start: t, count: 0 };
      this.#windows.set(key, w);
    }
    w.count++;
    return w.count > this.#perMinute ? Math.ceil((w.start + 60_000 - t) / 1000) : 0;
  }
}
