import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit.ts';

describe('RateLimiter', () => {
  it('allows perMinute hits per key, then asks to wait until the window ends', () => {
    let now = 1_000_000;
    const rl = new RateLimiter(3, () => now);
    expect([rl.hit('a'), rl.hit('a'), rl.hit('a')]).toEqual([0, 0, 0]);
    expect(rl.hit('b')).toBe(0);
    now += 20_000;
    expect(rl.hit('a')).toBe(40);
    now += 40_000;
    expect(rl.hit('a')).toBe(0);
  });

  it('says how long a key over its limit must wait, without counting the question', () => {
    let now = 1_000_000;
    const rl = new RateLimiter(2, () => now);
    expect(rl.waitFor('ip')).toBe(0);
    rl.hit('ip');
    expect(rl.waitFor('ip')).toBe(0);
    rl.hit('ip');
    now += 15_000;
    expect(rl.waitFor('ip')).toBe(45);
    expect(rl.waitFor('ip')).toBe(45);
    now += 45_000;
    expect(rl.waitFor('ip')).toBe(0);
  });
});
