/**
 * Turns predictions into contract log records and writes them to the
 * outbox. When storage fails (quota, blocked, private mode) the records stay
 * in memory and are retried on the next write, and the failure is returned
 * as a code for the UI: no prediction is lost silently.
 */
import { uuidv7 } from 'uuidv7';
import { probabilitiesForLog } from '../../../../model/contract/countries.ts';
import { fail, ok, type Result } from '../../../../model/contract/errors.ts';
import { FEATURE_SPECS, type Features } from '../../../../model/contract/features.ts';
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
    outputs: probabilitiesForLog(input.outputs),
    source: input.source,
    // Every log says what produced it: a batch (CSV or catalogue) or one interactive prediction.
    traffic: trafficOf(input),
  };
  return input.songId ? { ...log, songId: input.songId } : log;
}

/** Batches up to this size get the full schema check on every log. */
const FULL_CHECK_MAX = 64;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * What can differ between the logs of one batch, checked against the contract without the schema: the id,
 * the inputs (each in its feature's range), the outputs (72 probabilities), the song id. Everything else must
 * equal the first log's, which had the full check.
 */
function sameShapeProblem(log: PredictionLog, first: PredictionLog): string | null {
  if (!UUID.test(log.id)) return 'id';
  for (const k of ['deviceId', 'modelVersion', 'backend', 'source'] as const) {
    if (log[k] !== first[k]) return k;
  }
  if (log.createdAt !== first.createdAt && !ISO.test(log.createdAt)) return 'createdAt';
  if (!(log.latencyMs >= 0)) return 'latencyMs';
  for (const spec of FEATURE_SPECS) {
    const v = log.inputs[spec.name as keyof Features];
    if (typeof v !== 'number' || !(v >= spec.min && v <= spec.max)) return `inputs.${spec.name}`;
    if (spec.kind !== 'number' && !Number.isInteger(v)) return `inputs.${spec.name}`;
  }
  if (Object.keys(log.inputs).length !== FEATURE_SPECS.length) return 'inputs';
  if (log.outputs.length !== first.outputs.length) return 'outputs';
  for (const p of log.outputs) if (!(p >= 0 && p <= 1)) return 'outputs';
  if (log.songId !== undefined && (typeof log.songId !== 'string' || log.songId.length === 0)) return 'songId';
  if ((log.shadow === undefined) !== (first.shadow === undefined)) return 'shadow';
  return null;
}

export class PredictionRecorder {
  #pending: { log: PredictionLog; label?: string }[] = [];

  readonly #store: DeviceStore | null;

  constructor(store: DeviceStore | null) {
    this.#store = store;
  }

  /** Logs waiting in memory because storage failed. */
  get unsaved(): number {
    return this.#pending.length;
  }

  /**
   * Validates and stores logs, a few thousand per transaction (a 14,000-song batch is ~7 transactions, so
   * `onProgress` can move a progress bar); on a storage failure what is not stored stays in memory.
   */
  async record(
    logs: readonly PredictionLog[],
    labels?: readonly (string | undefined)[],
    onProgress?: (saved: number, total: number) => void,
  ): Promise<Result<number, StorageErrorCode | 'validation-failed'>> {
    // A record the server would reject would sit in the outbox forever: refuse it here, loudly. A batch is checked
    // in full on its first log and field by field on the rest (the full schema on a catalogue batch is slow:
    // test/bench/README.md).
    for (let i = 0; i < logs.length; i++) {
      const log = logs[i]!;
      if (i === 0 || logs.length <= FULL_CHECK_MAX || log.shadow) {
        const check = PredictionLogSchema.safeParse(log);
        if (!check.success) return fail('validation-failed', { id: log.id, issues: check.error.issues.slice(0, 3) });
      } else {
        const problem = sameShapeProblem(log, logs[0]!);
        if (problem) return fail('validation-failed', { id: log.id, issues: [problem] });
      }
    }
    this.#pending.push(...logs.map((log, i) => ({ log, label: labels?.[i] })));
    if (!this.#store) return fail('storage-unavailable', { unsaved: this.#pending.length });
    const total = this.#pending.length;
    let saved = 0;
    while (this.#pending.length > 0) {
      const chunk = this.#pending.slice(0, RECORD_CHUNK);
      const r = await this.#store.logs.add(
        chunk.map((p) => (p.label ? { log: p.log, label: p.label } : { log: p.log })),
      );
      if (!r.ok) return fail(r.code, { ...(r.details as object), unsaved: this.#pending.length });
      this.#pending = this.#pending.slice(chunk.length);
      saved += chunk.length;
      onProgress?.(saved, total);
    }
    return ok(logs.length);
  }
}

/** Logs per transaction: few transactions for a whole catalogue, yet a progress bar that moves. */
export const RECORD_CHUNK = 2_000;
