import { describe, expect, it } from 'vitest';
import { decidePinnedKey, sameKey } from './key-pinning.ts';

const key = { kty: 'EC', crv: 'P-256', x: 'x1', y: 'y1' };
const other = { kty: 'EC', crv: 'P-256', x: 'x2', y: 'y2' };

describe('decidePinnedKey', () => {
  it('pins the first key and keeps the same key', () => {
    expect(decidePinnedKey(undefined, key, undefined)).toEqual({ ok: true, value: { action: 'pin', key } });
    expect(decidePinnedKey(key, { ...key, ext: true }, undefined)).toEqual({ ok: true, value: { action: 'keep' } });
    expect(decidePinnedKey(key, undefined, undefined)).toEqual({ ok: true, value: { action: 'keep' } });
  });

  it('refuses a different key without an admin reset, and replaces it with one', () => {
    const refused = decidePinnedKey(key, other, undefined);
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.code).toBe('label-key-changed');
    expect(decidePinnedKey(key, other, { at: '2026-12-03T08:00:00Z' })).toEqual({
      ok: true,
      value: { action: 'replace', key: other, resetAt: '2026-12-03T08:00:00Z' },
    });
  });

  it('compares curve and point only', () => {
    expect(sameKey(key, { ...key, key_ops: ['verify'] })).toBe(true);
    expect(sameKey(key, { ...key, y: 'other' })).toBe(false);
  });
});
