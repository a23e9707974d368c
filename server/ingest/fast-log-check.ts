/**
 * A fast pre-check for the common case of a valid log batch. zod stays the
 * schema of record: when this check says "valid" the body is exactly what
 * `LogBatchRequestSchema` accepts (it is only ever stricter, a property the
 * unit test checks on thousands of mutated batches); anything else goes to
 * zod, which produces the per-item errors. It exists because zod's per-number
 * checks on 500 × 85 values cost more than the whole database write.
 */
import { z } from 'zod';
import {
  BACKENDS,
  DeviceIdSchema,
  EventTimeSchema,
  FEATURE_SPECS,
  type LogBatchRequest,
  LogIdSchema,
  MAX_LATENCY_MS,
  MAX_LOGS_PER_BATCH,
  ModelVersionSchema,
  NUM_COUNTRIES,
  PREDICTION_SOURCES,
  safeText,
  TRAFFIC_KINDS,
} from '../../model/contract/index.ts';

const LOG_KEYS = new Set([
  'id',
  'deviceId',
  'modelVersion',
  'backend',
  'latencyMs',
  'createdAt',
  'inputs',
  'outputs',
  'source',
  'songId',
  'shadow',
  'traffic',
]);
const BACKEND_SET = new Set<string>(BACKENDS);
const SOURCE_SET = new Set<string>(PREDICTION_SOURCES);
const SongId = safeText(64, 1);
const TRAFFIC_SET = new Set<string>(TRAFFIC_KINDS);
const CreatedAt = z.iso.datetime({ offset: true });

/** EventTimeSchema without a Date.parse in the common case: years 2001–2099 are inside 2000–2100 whatever the offset. */
function eventTimeOk(v: string): boolean {
  if (!CreatedAt.safeParse(v).success) return false;
  const y = v.slice(0, 4);
  if (y > '2000' && y < '2100') return true;
  return EventTimeSchema.safeParse(v).success;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function finiteIn(v: unknown, min: number, max: number): boolean {
  return typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max;
}

function probabilities(v: unknown): boolean {
  if (!Array.isArray(v) || v.length !== NUM_COUNTRIES) return false;
  for (let i = 0; i < v.length; i++) {
    const p = v[i];
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) return false;
  }
  return true;
}

// Cache of strings already validated by zod (device ids, versions repeat across a batch).
const okStrings = new Map<string, true>();
function cachedOk(schema: z.ZodType, tag: string, v: unknown): boolean {
  if (typeof v !== 'string') return false;
  const key = `${tag}\u0000${v}`;
  if (okStrings.has(key)) return true;
  if (!schema.safeParse(v).success) return false;
  if (okStrings.size > 10_000) okStrings.clear();
  okStrings.set(key, true);
  return true;
}

function inputsOk(v: unknown): boolean {
  if (!isPlainObject(v)) return false;
  let n = 0;
  for (const _k in v) n++;
  if (n !== FEATURE_SPECS.length) return false;
  for (const spec of FEATURE_SPECS) {
    const x = v[spec.name];
    if (!finiteIn(x, spec.min, spec.max)) return false;
    if (spec.kind !== 'number' && !Number.isInteger(x)) return false;
  }
  return true;
}

/** Exactly { modelVersion, outputs, latencyMs }: zod would strip extra keys, so those go to zod. */
function shadowOk(v: unknown): boolean {
  if (!isPlainObject(v)) return false;
  for (const k in v) if (k !== 'modelVersion' && k !== 'outputs' && k !== 'latencyMs') return false;
  return (
    cachedOk(ModelVersionSchema, 'v', v.modelVersion) &&
    probabilities(v.outputs) &&
    finiteIn(v.latencyMs, 0, MAX_LATENCY_MS)
  );
}

function logOk(l: unknown): boolean {
  if (!isPlainObject(l)) return false;
  for (const k in l) if (!LOG_KEYS.has(k)) return false;
  if (typeof l.id !== 'string' || !LogIdSchema.safeParse(l.id).success) return false;
  if (!cachedOk(DeviceIdSchema, 'd', l.deviceId)) return false;
  if (!cachedOk(ModelVersionSchema, 'v', l.modelVersion)) return false;
  if (typeof l.backend !== 'string' || !BACKEND_SET.has(l.backend)) return false;
  if (!finiteIn(l.latencyMs, 0, MAX_LATENCY_MS)) return false;
  if (typeof l.createdAt !== 'string' || !eventTimeOk(l.createdAt)) return false;
  if (typeof l.source !== 'string' || !SOURCE_SET.has(l.source)) return false;
  if (!inputsOk(l.inputs) || !probabilities(l.outputs)) return false;
  if (l.songId !== undefined && !cachedOk(SongId, 's', l.songId)) return false;
  if (l.shadow !== undefined && !shadowOk(l.shadow)) return false;
  if (l.traffic !== undefined && (typeof l.traffic !== 'string' || !TRAFFIC_SET.has(l.traffic))) return false;
  return true;
}

/** True only when `LogBatchRequestSchema` would accept the body unchanged. */
export function isValidLogBatch(body: unknown): body is LogBatchRequest {
  if (!isPlainObject(body)) return false;
  for (const k in body) if (k !== 'logs') return false;
  const logs = body.logs;
  if (!Array.isArray(logs) || logs.length < 1 || logs.length > MAX_LOGS_PER_BATCH) return false;
  for (let i = 0; i < logs.length; i++) if (!logOk(logs[i])) return false;
  return true;
}
