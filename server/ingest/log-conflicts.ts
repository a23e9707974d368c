/**
 * "Same id, different content": a retry resends a log byte for byte, so an id already stored with other content
 * is a client bug or a forgery, answered 409 `id-reused` instead of being taken for a duplicate. Runs inside the
 * ingest transaction, only for the ids the insert did not take (retries), so the hot path pays nothing.
 */
import type { Kysely, Transaction } from 'kysely';
import type { ItemError, PredictionLog } from '../../model/contract/index.ts';
import type { Database } from '../store/schema.ts';
import { decodeVector } from '../store/vectors.ts';

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => Object.is(x, b[i]) || x === b[i]);
}

function sameShadow(stored: string | null, sent: PredictionLog['shadow']): boolean {
  if (stored === null || sent === undefined) return stored === null && sent === undefined;
  const s = JSON.parse(stored) as NonNullable<PredictionLog['shadow']>;
  return s.modelVersion === sent.modelVersion && s.latencyMs === sent.latencyMs && sameNumbers(s.outputs, sent.outputs);
}

/**
 * Items among `logs` (already known not to be new) whose stored row differs from what was sent. `inputs` is the
 * sent inputs as a vector in feature order (as stored).
 */
export async function reusedLogIds(
  db: Kysely<Database> | Transaction<Database>,
  logs: readonly { log: PredictionLog; inputs: readonly number[]; index: number }[],
): Promise<ItemError[]> {
  if (logs.length === 0) return [];
  const out: ItemError[] = [];
  for (let i = 0; i < logs.length; i += 500) {
    const part = logs.slice(i, i + 500);
    const rows = await db
      .selectFrom('logs')
      .select(['id', 'device_id', 'model_version', 'backend', 'latency_ms', 'created_at', 'source', 'song_id'])
      .select(['inputs', 'outputs', 'shadow'])
      .where(
        'id',
        'in',
        part.map((p) => p.log.id),
      )
      .execute();
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const p of part) {
      const r = byId.get(p.log.id);
      if (!r) continue; // not stored after all (cannot happen inside the transaction); nothing to compare
      const l = p.log;
      const same =
        r.device_id === l.deviceId &&
        r.model_version === l.modelVersion &&
        r.backend === l.backend &&
        r.latency_ms === l.latencyMs &&
        r.created_at === l.createdAt &&
        r.source === l.source &&
        r.song_id === (l.songId ?? null) &&
        sameNumbers(decodeVector(r.inputs), p.inputs) &&
        sameNumbers(decodeVector(r.outputs), l.outputs) &&
        sameShadow(r.shadow, l.shadow);
      if (!same) {
        out.push({
          index: p.index,
          id: l.id,
          code: 'id-reused',
          message: 'this log id is already stored with different content',
        });
      }
    }
  }
  return out;
}
