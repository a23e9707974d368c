/**
 * Request/response over a worker's message port: each request gets an id,
 * its final answer resolves the promise, `progress` goes to the caller's
 * callback and unsolicited `benchmark` results to listeners. Plain TS so it is
 * unit-tested against the engine without a browser.
 */
import type { WorkerRequest, WorkerResponse } from './protocol.ts';

export interface WorkerLike {
  postMessage(message: WorkerRequest, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<WorkerResponse>) => void): void;
  addEventListener(type: 'error', listener: (event: ErrorEvent) => void): void;
  terminate?(): void;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type RequestBody = DistributiveOmit<WorkerRequest, 'id'>;
export type FinalAnswer = Exclude<WorkerResponse, { type: 'progress' | 'benchmark' | 'shadow' }>;
export type ShadowAnswer = Extract<WorkerResponse, { type: 'shadow' }>;

interface Pending {
  resolve(answer: FinalAnswer): void;
  onProgress?: (done: number, total: number) => void;
  /** Called with the shadow candidate's answer, or null at once when no shadow runs for this request. */
  onShadow?: (msg: ShadowAnswer | null) => void;
}

export class WorkerChannel {
  #next = 1;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Set<(msg: WorkerResponse) => void>();
  /** Requests whose answer announced a later `shadow` message. */
  readonly #followUps = new Map<number, (msg: ShadowAnswer) => void>();

  readonly #worker: WorkerLike;
  constructor(worker: WorkerLike) {
    this.#worker = worker;
    worker.addEventListener('message', (event: MessageEvent<WorkerResponse>) => this.#route(event.data));
    worker.addEventListener('error', (event: ErrorEvent) => {
      // A worker that fails to start (e.g. its script is missing offline) must not leave callers waiting.
      for (const [id, p] of this.#pending) {
        p.onShadow?.(null);
        p.resolve({ type: 'error', id, code: 'backend-unavailable', message: event.message || 'worker failed' });
      }
      this.#pending.clear();
      for (const f of this.#followUps.values())
        f({ type: 'shadow', id: 0, modelVersion: '', outputs: null, latencyMs: 0 });
      this.#followUps.clear();
    });
  }

  #route(msg: WorkerResponse): void {
    if (msg.type === 'progress') {
      this.#pending.get(msg.id)?.onProgress?.(msg.done, msg.total);
      return;
    }
    if (msg.type === 'benchmark') {
      for (const l of this.#listeners) l(msg);
      return;
    }
    if (msg.type === 'shadow') {
      this.#followUps.get(msg.id)?.(msg);
      this.#followUps.delete(msg.id);
      return;
    }
    const p = this.#pending.get(msg.id);
    if (!p) return;
    this.#pending.delete(msg.id);
    if (!(msg.type === 'prediction' && msg.shadowVersion !== null)) {
      p.onShadow?.(null);
    } else if (p.onShadow) this.#followUps.set(msg.id, p.onShadow);
    p.resolve(msg);
  }

  /** Messages not tied to a pending request (the background benchmark result). */
  onMessage(listener: (msg: WorkerResponse) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  request(
    body: RequestBody,
    options: {
      transfer?: Transferable[];
      onProgress?: (done: number, total: number) => void;
      onShadow?: (msg: ShadowAnswer | null) => void;
    } = {},
  ): Promise<FinalAnswer> {
    const id = this.#next++;
    return new Promise<FinalAnswer>((resolve) => {
      this.#pending.set(id, { resolve, onProgress: options.onProgress, onShadow: options.onShadow });
      this.#worker.postMessage({ ...body, id } as WorkerRequest, options.transfer ?? []);
    });
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  terminate(): void {
    this.#worker.terminate?.();
  }
}
