/**
 * Turns predictions into contract log records and writes them to the
 * outbox. When storage fails (quota, blocked, private mode) the records stay
 * in memory and are retried on the next write, and the failure is returned
 * as a code for the UI: no prediction is lost silently.
 */
import { uuidv7 } from 'uuidv7';
import { fail, ok, type Result } from '../../../../model/contract/errors.ts';
import type { Features } from '../../../../model/contract/features.ts';
import {
  type Backend,
  type PredictionLog,
  PredictionLogSchema,
  type PredictionSource,
  trafficOf,
} from '../../../../model/contract/prediction-log.ts';
import type { DeviceStore, StorageErrorCode } from './device-store.ts';

export interface LogInput {
  readonly inputs: Features;
  readonly outputs: ArrayLike<number>;
  readonly source: PredictionSource;
  readonly songId?: string;
  readonly label?: string;
}

export interface LogContext {
  readonly deviceId: string;
  readonly modelVersion: string;
  readonly backend: Backend;
  /** Per-row model latency. */
  readonly latencyMs: number;
}

/** One contract record per prediction; ids are UUID v7 so they sort by time (pass one made earlier to keep it). */
export function buildLog(ctx: LogContext, input: LogInput, createdAt = new Date(), id = uuidv7()): PredictionLog {
  const log: PredictionLog = {
    id,
    deviceId: ctx.deviceId,
    modelVersion: ctx.modelVersion,
    backend: ctx.backend,
    latencyMs: Math.max(0, ctx.latencyMs),
    createdAt: createdAt.toISOString(),
    inputs: input.inputs,
    outputs: Array.from(input.outputs, (v) => Math.min(1, Math.max(0, v))),
    source: input.source,
    // Every log says what produced it: a batch (CSV or catalogue) or one interactive prediction.
    traffic: trafficOf(input),
  };
  return input.songId ? { ...log, songId: input.songId } : log;
}

export class PredictionRecorder {
  #pending: { log: PredictionLog; label?: string }[] = [];

  constructor(private readonly store: DeviceStore | null) {}

  /** Logs waiting in memory because storage failed. */
  get unsaved(): number {
    return this.#pending.length;
  }

  async record(
    logs: readonly PredictionLog[],
    labels?: readonly (string | undefined)[],
  ): Promise<Result<number, StorageErrorCode | 'validation-failed'>> {
    for (const log of logs) {
      const check = PredictionLogSchema.safeParse(log);
      // A record the server would reject would sit in the outbox forever: refuse it here, loudly.
      if (!check.success) return fail('validation-failed', { id: log.id, issues: check.error.issues.slice(0, 3) });
    }
    this.#pending.push(...logs.map((log, i) => ({ log, label: labels?.[i] })));
    if (!this.store) return fail('storage-unavailable', { unsaved: this.#pending.length });
    const batch = [...this.#pending];
    const r = await this.store.addLogs(
      batch.map((p) => p.log),
      batch.map((p) => p.label),
    );
    if (!r.ok) return fail(r.code, { ...(r.details as object), unsaved: batch.length });
    this.#pending = this.#pending.slice(batch.length);
    return ok(logs.length);
  }
}
