/**
 * The step cache: each step's output stored as JSON under the cache dir,
 * keyed by a sha256 over the step name, the pipeline's code hash, its
 * parameters and its upstream keys. An unchanged re-run reuses every step;
 * changing one parameter changes only the keys downstream of it.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canonicalJson } from '../contract/index.ts';

export interface StepOutcome<T> {
  readonly value: T;
  readonly key: string;
  readonly hit: boolean;
  readonly ms: number;
}

export interface StepCache {
  /** null: caching disabled (every step computes). */
  readonly dir: string | null;
  readonly log: { step: string; key: string; hit: boolean; ms: number }[];
}

export function createCache(dir: string | null): StepCache {
  return { dir, log: [] };
}

/** JSON that keeps typed arrays (weights, matrices) as base64 float32 / uint8. */
function replacer(_k: string, v: unknown): unknown {
  if (v instanceof Float32Array) return { $f32: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  if (v instanceof Uint8Array) return { $u8: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  return v;
}

function reviver(_k: string, v: unknown): unknown {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (typeof o.$f32 === 'string') {
      const b = Buffer.from(o.$f32, 'base64');
      return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    }
    if (typeof o.$u8 === 'string') return new Uint8Array(Buffer.from(o.$u8, 'base64'));
  }
  return v;
}

export function encodeValue(v: unknown): string {
  return JSON.stringify(v, replacer);
}
export function decodeValue<T>(text: string): T {
  return JSON.parse(text, reviver) as T;
}

export function stepKey(step: string, parts: unknown): string {
  return createHash('sha256').update(canonicalJson({ step, parts })).digest('hex');
}

let codeHash: Promise<string> | undefined;
/** sha256 over the pipeline's own source and the loader it exports for: code changes invalidate the cache. */
export function pipelineCodeHash(): Promise<string> {
  codeHash ??= (async () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const files = (await readdir(here)).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).sort();
    const h = createHash('sha256');
    for (const f of files) h.update(f).update(await readFile(join(here, f)));
    h.update(await readFile(join(here, '..', 'runtime', 'dense-model.ts')));
    h.update(await readFile(join(here, '..', 'runtime', 'tree-ensemble.ts')));
    return h.digest('hex');
  })();
  return codeHash;
}

/** Computes a step or reads it from the cache. Writes are atomic (temp file + rename). */
export async function cachedStep<T>(
  cache: StepCache,
  step: string,
  parts: unknown,
  compute: () => Promise<T> | T,
): Promise<StepOutcome<T>> {
  const t0 = performance.now();
  const key = stepKey(step, { code: await pipelineCodeHash(), parts });
  const file = cache.dir ? join(cache.dir, step, `${key}.json`) : null;
  if (file) {
    try {
      const value = decodeValue<T>(await readFile(file, 'utf8'));
      const ms = performance.now() - t0;
      cache.log.push({ step, key, hit: true, ms });
      return { value, key, hit: true, ms };
    } catch {
      // Not cached yet (or unreadable): compute it.
    }
  }
  const value = await compute();
  if (file) {
    await mkdir(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, encodeValue(value));
    await rename(tmp, file);
  }
  const ms = performance.now() - t0;
  cache.log.push({ step, key, hit: false, ms });
  return { value, key, hit: false, ms };
}
