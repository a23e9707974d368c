import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProbabilitiesSchema, probabilitiesForLog } from './countries.ts';

describe('probabilitiesForLog', () => {
  it('gives back every float32 probability exactly (Math.fround) in at most 9 significant digits', () => {
    fc.assert(
      fc.property(fc.float({ min: 0, max: 1, noNaN: true }), (p) => {
        const [logged] = probabilitiesForLog([p]) as [number];
        expect(Math.fround(logged)).toBe(Math.fround(p));
        const digits = JSON.stringify(logged)
          .replace(/e.*$/, '')
          .replace(/[^0-9]/g, '')
          .replace(/^0+/, '');
        expect(digits.length).toBeLessThanOrEqual(9);
      }),
      { numRuns: 20_000 },
    );
  });

  it('holds at the edges: powers of ten, the smallest float32s, 0 and 1', () => {
    const edges = [0, 1, 1e-45, 1.1754944e-38, 1e-30, 1e-22, 1e-10, 0.001, 0.01, 0.1, 0.9999999, Math.fround(0.1)];
    for (const p of edges) expect(Math.fround(probabilitiesForLog([p])[0] as number)).toBe(Math.fround(p));
    for (let e = -44; e <= 0; e++) {
      const p = Math.fround(10 ** e);
      for (const q of [p, Math.fround(p * (1 - 2 ** -23)), Math.fround(p * (1 + 2 ** -23))]) {
        if (q <= 1) expect(Math.fround(probabilitiesForLog([q])[0] as number)).toBe(q);
      }
    }
  });

  it('clamps to [0, 1] and keeps NaN for the schema to refuse', () => {
    expect(probabilitiesForLog([-0.5, 1.5, 0.25])).toEqual([0, 1, 0.25]);
    const withNaN = probabilitiesForLog(new Array(72).fill(Number.NaN));
    expect(ProbabilitiesSchema.safeParse(withNaN).success).toBe(false);
  });

  it('halves the JSON text of float32 model outputs', () => {
    const outputs = Float32Array.from({ length: 72 }, (_, i) => 0.5 / (i + 1.37));
    const full = JSON.stringify(Array.from(outputs)).length;
    const cut = JSON.stringify(probabilitiesForLog(outputs)).length;
    expect(cut / full).toBeLessThan(0.7);
  });
});
