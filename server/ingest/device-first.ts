/**
 * Device batches come first: long admin work (a chart upload of 20,000 songs) runs its next step only when no
 * device batch is being received or stored, or once it has waited `maxWaitMs`, so it always finishes.
 *
 * Yielding to the event loop between steps was not enough: a 500-log batch arrives in a dozen socket reads, and
 * each read let one more upload step run before the batch was parsed, which added ~30 ms to the batch p99 during
 * an upload (the ingest benchmark's upload row).
 */
export class DeviceFirst {
  #inFlight = 0;
  #waiting: (() => void)[] = [];
  readonly #maxWaitMs: number;

  constructor(opts: { maxWaitMs?: number } = {}) {
    this.#maxWaitMs = opts.maxWaitMs ?? 40;
  }

  /** Device batches being received or stored now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Runs a device batch's handler, counted from its first byte to its answer. */
  async device<T>(handle: () => Promise<T>): Promise<T> {
    this.#inFlight++;
    try {
      return await handle();
    } finally {
      this.#inFlight--;
      if (this.#inFlight === 0) for (const wake of this.#waiting.splice(0)) wake();
    }
  }

  /** For background work between two steps: resolves when no device batch is in flight, or after maxWaitMs. */
  async turn(): Promise<void> {
    await new Promise<void>((r) => setImmediate(r));
    if (this.#inFlight === 0) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        const i = this.#waiting.indexOf(done);
        if (i >= 0) this.#waiting.splice(i, 1);
        resolve();
      };
      const timer = setTimeout(done, this.#maxWaitMs);
      this.#waiting.push(done);
    });
  }
}
