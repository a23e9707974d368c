import { describe, expect, it } from 'vitest';
import { addShadow, emptyShadow, mergeShadow, summariseShadow } from './shadow.ts';

const vec = (hot: number, base = 0.1) => Array.from({ length: 72 }, (_, i) => (i === hot ? 0.9 : base + i / 1000));

describe('shadow statistics', () => {
  it('counts agreement, top-5 membership and mean absolute difference, and merges', () => {
    const a = emptyShadow();
    addShadow(a, vec(3), vec(3), 2);
    const b = emptyShadow();
    // Shadow's top-1 is country 71, which is the active model's 2nd highest: in the top 5, not the same top-1.
    addShadow(b, vec(3), vec(71), 4);
    const s = summariseShadow(mergeShadow(a, b));
    expect(s.n).toBe(2);
    expect(s.top1Agreement).toBe(0.5);
    expect(s.top1InActiveTop5).toBe(1);
    expect(s.meanAbsDiff).toBeCloseTo((0 + (0.9 - 0.103 + (0.9 - 0.171)) / 72) / 2, 10);
    expect(s.meanShadowLatencyMs).toBe(3);
    expect(summariseShadow(emptyShadow()).top1Agreement).toBeNull();
  });
});
