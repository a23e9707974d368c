/**
 * Uploads what the device recorded (prediction logs, outcomes) in batches.
 * The device stays the system of record until the server acknowledges an id:
 * only acknowledged ids are marked synced; items the server rejects with a
 * code are set aside (shown to the user, never retried forever); transient
 * failures (network, 5xx, 429) are retried with backoff and jitter.
 * Storage and network are injected, so the engine is tested without either.
 */
import { type ItemError, ItemErrorSchema, LogBatchResponseSchema } from '../../../../model/contract/api.ts';
import { describeError } from '../../../../model/contract/errors.ts';
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from './backoff.ts';

/** One kind of record waiting to be uploaded (logs or outcomes). */
export interface Outbox<T extends { id: string }> {
  /** API path the batch is POSTed to, e.g. "/api/v1/logs". */
  readonly path: string;
  /** Body property holding the items, e.g. "logs". */
  readonly field: string;
  /**
   * Oldest unsynced, not rejected items first, leaving out `skip`: ids just acknowledged whose mark may not have
   * landed yet (the engine reads the next batch while marking the last).
   */
  unsynced(limit: number, skip?: ReadonlySet<string>): Promise<T[]>;
  markSynced(ids: readonly string[]): Promise<void>;
  markRejected(rejections: readonly Rejection[]): Promise<void>;
}

export interface Rejection {
  readonly id: string;
  readonly code: string;
  readonly message: string;
}

export type HttpResult = { readonly status: number; readonly body: unknown } | { readonly networkError: string };

export type Post = (path: string, body: unknown) => Promise<HttpResult>;

export type SyncStatus = 'idle' | 'syncing' | 'waiting-to-retry' | 'unauthorized';

export interface SyncState {
  readonly status: SyncStatus;
  readonly lastSyncAt: string | null;
  readonly lastError: string | null;
  readonly nextRetryAt: string | null;
  readonly attempt: number;
}

export interface SyncReport {
  readonly sent: number;
  readonly rejected: number;
  /** False when it stopped early on a transient failure or an auth problem. */
  readonly complete: boolean;
}

export interface SyncEngineOptions {
  readonly outboxes: readonly Outbox<{ id: string }>[];
  readonly post: Post;
  readonly batchSize?: number;
  readonly backoff?: BackoffOptions;
  readonly now?: () => Date;
  readonly random?: () => number;
  readonly setTimer?: (fn: () => void, ms: number) => unknown;
  readonly clearTimer?: (handle: unknown) => void;
  readonly onState?: (state: SyncState) => void;
  /** After each batch the server answered (acknowledged or refused): lets the pending count move during a pass. */
  readonly onBatch?: (path: string, done: number) => void;
}

type BatchOutcome =
  | { kind: 'ok'; acked: string[] }
  | { kind: 'rejected'; count: number }
  | { kind: 'too-large' }
  | { kind: 'retry' | 'auth'; error: string };

export class SyncEngine {
  readonly #o: Required<Omit<SyncEngineOptions, 'onState' | 'onBatch'>> &
    Pick<SyncEngineOptions, 'onState' | 'onBatch'>;
  #state: SyncState = { status: 'idle', lastSyncAt: null, lastError: null, nextRetryAt: null, attempt: 0 };
  #running: Promise<SyncReport> | null = null;
  #timer: unknown = null;

  constructor(options: SyncEngineOptions) {
    this.#o = {
      batchSize: 500,
      backoff: DEFAULT_BACKOFF,
      now: () => new Date(),
      random: Math.random,
      setTimer: (fn, ms) => setTimeout(fn, ms),
      clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
      ...options,
    };
  }

  get state(): SyncState {
    return this.#state;
  }

  /** Runs one sync pass now (joins a pass already running). */
  syncNow(): Promise<SyncReport> {
    if (this.#running) return this.#running;
    if (this.#timer !== null) {
      this.#o.clearTimer(this.#timer);
      this.#timer = null;
    }
    this.#running = this.#pass().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  /** Stops any scheduled retry (e.g. on logout). */
  stop(): void {
    if (this.#timer !== null) this.#o.clearTimer(this.#timer);
    this.#timer = null;
  }

  #set(patch: Partial<SyncState>): void {
    this.#state = { ...this.#state, ...patch };
    this.#o.onState?.(this.#state);
  }

  async #pass(): Promise<SyncReport> {
    this.#set({ status: 'syncing', nextRetryAt: null });
    try {
      return await this.#uploadAll();
    } catch (err) {
      // Storage failed under the engine (quota, closed database): nothing was lost, try again later.
      this.#scheduleRetry(err instanceof Error ? err.message : String(err));
      return { sent: 0, rejected: 0, complete: false };
    }
  }

  async #uploadAll(): Promise<SyncReport> {
    let sent = 0;
    let rejected = 0;
    for (const outbox of this.#o.outboxes) {
      let limit = this.#o.batchSize;
      // Two requests in flight once the server is taking batches: the next batch is read, encoded and sent while
      // the previous one is answered. Any other answer goes back to one at a time until a batch is taken again.
      let window = 1;
      const marks: Promise<void>[] = [];
      // Ids sent and not settled yet (unanswered, or acknowledged with the mark still to land): reads leave them out.
      const out = new Set<string>();
      const queue: { items: { id: string }[]; result: Promise<BatchOutcome> }[] = [];
      const refill = async () => {
        while (queue.length < window) {
          const items = (await outbox.unsynced(limit, out)).filter((i) => !out.has(i.id)).slice(0, limit);
          // A short batch waits until nothing is in flight: it may be the tail of a batch still being answered.
          if (items.length === 0 || (items.length < limit && queue.length > 0)) return;
          for (const i of items) out.add(i.id);
          queue.push({ items, result: this.#sendBatch(outbox, items) });
        }
      };
      const settle = (items: readonly { id: string }[]) => {
        for (const i of items) out.delete(i.id);
      };
      await refill();
      while (queue.length > 0) {
        const { items, result } = queue.shift()!;
        const r = await result;
        if (r.kind === 'ok') {
          sent += r.acked.length;
          window = 2;
          marks.push(
            outbox.markSynced(r.acked).then(() => {
              settle(items);
              this.#o.onBatch?.(outbox.path, r.acked.length);
            }),
          );
          await refill();
          continue;
        }
        window = 1;
        if (r.kind === 'rejected') {
          rejected += r.count;
          this.#o.onBatch?.(outbox.path, r.count);
        }
        // Valid items in a body over the server's limit: send fewer at a time (for the rest of this pass).
        else if (r.kind === 'too-large') limit = Math.max(1, Math.floor(items.length / 2));
        else {
          // Stop: what is still in flight is answered first (and marked when taken), so nothing is sent twice.
          for (const rest of queue.splice(0)) {
            const x = await rest.result;
            if (x.kind === 'ok') {
              sent += x.acked.length;
              marks.push(outbox.markSynced(x.acked));
            } else if (x.kind === 'rejected') rejected += x.count;
          }
          await Promise.all(marks);
          if (r.kind === 'auth') this.#set({ status: 'unauthorized', lastError: r.error });
          else this.#scheduleRetry(r.error);
          return { sent, rejected, complete: false };
        }
        settle(items);
        await refill();
      }
      // A failed mark (storage) throws here: the pass retries later and the server stores the resend once.
      await Promise.all(marks);
    }
    this.#set({ status: 'idle', lastSyncAt: this.#o.now().toISOString(), lastError: null, attempt: 0 });
    return { sent, rejected, complete: true };
  }

  #scheduleRetry(error: string): void {
    const delay = backoffDelay(this.#state.attempt, this.#o.random, this.#o.backoff);
    const at = new Date(this.#o.now().getTime() + delay).toISOString();
    this.#set({ status: 'waiting-to-retry', lastError: error, nextRetryAt: at, attempt: this.#state.attempt + 1 });
    this.#timer = this.#o.setTimer(() => {
      this.#timer = null;
      void this.syncNow();
    }, delay);
  }

  async #sendBatch(outbox: Outbox<{ id: string }>, items: { id: string }[]): Promise<BatchOutcome> {
    const res = await this.#o.post(outbox.path, { [outbox.field]: items });
    if ('networkError' in res) return { kind: 'retry', error: describeError('network-error') };
    if (res.status === 413 && items.length > 1) return { kind: 'too-large' };
    // A 403 that names items (logs of another device id) is about those items, not about the token.
    const forbiddenItems = res.status === 403 ? itemIdsOf(res.body) : [];
    if (forbiddenItems.length > 0) {
      const rejections = items
        .filter((i) => forbiddenItems.includes(i.id))
        .map((i) => ({ id: i.id, code: 'forbidden', message: errorMessage(res.body) }));
      await outbox.markRejected(rejections);
      return { kind: 'rejected', count: rejections.length };
    }
    if (res.status === 401 || res.status === 403) return { kind: 'auth', error: errorMessage(res.body) };
    if (res.status >= 200 && res.status < 300) {
      const parsed = LogBatchResponseSchema.safeParse(res.body);
      if (!parsed.success) return { kind: 'retry', error: 'The server answered in an unexpected format.' };
      // Only ids the server says it stored are marked: anything else is sent again next pass.
      const sentIds = new Set(items.map((i) => i.id));
      const acked = parsed.data.stored.filter((id) => sentIds.has(id));
      if (acked.length === 0) return { kind: 'retry', error: 'The server acknowledged none of the batch.' };
      // Marked by the caller, overlapping the next upload.
      return { kind: 'ok', acked };
    }
    if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
      const itemErrors = itemErrorsOf(res.body);
      const rejections = rejectionsFor(items, itemErrors, res.body);
      await outbox.markRejected(rejections);
      return { kind: 'rejected', count: rejections.length };
    }
    return { kind: 'retry', error: errorMessage(res.body) };
  }
}

function errorMessage(body: unknown): string {
  const e = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if (typeof e?.message === 'string') return e.message;
  if (typeof e?.code === 'string') return describeError(e.code);
  return 'The server could not take the upload.';
}

function itemIdsOf(body: unknown): string[] {
  const details = (body as { error?: { details?: { items?: unknown } } } | null)?.error?.details;
  const items = Array.isArray(details?.items) ? (details.items as { id?: unknown }[]) : [];
  return items.flatMap((i) => (typeof i?.id === 'string' ? [i.id] : []));
}

function itemErrorsOf(body: unknown): ItemError[] {
  const details = (body as { error?: { details?: { items?: unknown } } } | null)?.error?.details;
  const items = Array.isArray(details?.items) ? details.items : [];
  return items.flatMap((i) => {
    const p = ItemErrorSchema.safeParse(i);
    return p.success ? [p.data] : [];
  });
}

/**
 * The server rejects a batch atomically and names the bad items. Set aside
 * exactly those; the rest go out again in the next batch. When it names
 * none, the whole batch is set aside rather than retried forever.
 */
function rejectionsFor(items: { id: string }[], errors: ItemError[], body: unknown): Rejection[] {
  const named = errors.flatMap((e) => {
    const item = e.id !== undefined ? items.find((i) => i.id === e.id) : items[e.index];
    return item ? [{ id: item.id, code: e.code, message: e.message }] : [];
  });
  if (named.length > 0) return named;
  const message = errorMessage(body);
  const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
  return items.map((i) => ({ id: i.id, code: typeof code === 'string' ? code : 'validation-failed', message }));
}
