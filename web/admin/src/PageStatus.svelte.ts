/**
 * A dashboard page's status line: the last failure's message (shown instead of throwing) and whether an
 * action the admin started is still running (its buttons stay disabled meanwhile).
 */
export class PageStatus {
  error = $state('');
  busy = $state(false);

  /** Shows a failure's message. */
  fail(e: unknown): void {
    this.error = e instanceof Error ? e.message : String(e);
  }

  /** Runs an action with `busy` set until it settles; a failure is shown, not thrown. */
  async run(action: () => Promise<unknown>): Promise<void> {
    this.busy = true;
    try {
      await action();
    } catch (e) {
      this.fail(e);
    } finally {
      this.busy = false;
    }
  }
}
