import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cachedStep, createCache, decodeValue, encodeValue, stepKey } from './cache.ts';

describe('step cache', () => {
  it('round-trips typed arrays through its JSON', () => {
    const v = { w: new Float32Array([1.5, -2, 3e-8]), b: new Uint8Array([1, 2, 255]), n: [1, 2] };
    const back = decodeValue<typeof v>(encodeValue(v));
    expect(back.w).toBeInstanceOf(Float32Array);
    expect(Array.from(back.w)).toEqual(Array.from(v.w));
    expect(back.b).toBeInstanceOf(Uint8Array);
    expect(Array.from(back.b)).toEqual([1, 2, 255]);
    expect(back.n).toEqual([1, 2]);
  });

  it('keys depend on step and parameters, not on key order', () => {
    expect(stepKey('a', { x: 1, y: 2 })).toBe(stepKey('a', { y: 2, x: 1 }));
    expect(stepKey('a', { x: 1 })).not.toBe(stepKey('a', { x: 2 }));
    expect(stepKey('a', { x: 1 })).not.toBe(stepKey('b', { x: 1 }));
  });

  it('computes once, then reuses; a changed parameter recomputes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cache-'));
    let calls = 0;
    const compute = () => {
      calls++;
      return { value: calls, w: new Float32Array([calls]) };
    };
    const c1 = createCache(dir);
    const a = await cachedStep(c1, 'train', { lr: 1 }, compute);
    const c2 = createCache(dir);
    const b = await cachedStep(c2, 'train', { lr: 1 }, compute);
    const c = await cachedStep(c2, 'train', { lr: 2 }, compute);
    expect([a.hit, b.hit, c.hit]).toEqual([false, true, false]);
    expect(b.value.value).toBe(1);
    expect(b.key).toBe(a.key);
    expect(c.value.value).toBe(2);
    expect(calls).toBe(2);
    expect(c2.log.map((l) => l.hit)).toEqual([true, false]);
    expect((await readdir(join(dir, 'train'))).filter((f) => f.endsWith('.json'))).toHaveLength(2);
  });

  it('with no directory, always computes', async () => {
    let calls = 0;
    const c = createCache(null);
    await cachedStep(c, 's', {}, () => ++calls);
    await cachedStep(c, 's', {}, () => ++calls);
    expect(calls).toBe(2);
  });
});
