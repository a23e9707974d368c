import { describe, expect, it } from 'vitest';
import { binIndex, outputEntropy, ReferenceProfileSchema } from '../contract/index.ts';
import { mulberry32 } from './prng.ts';
import { decileEdges, histogram, quantile, referenceProfile } from './reference-profile.ts';

describe('reference profile', () => {
  it('takes decile edges and drops repeated ones', () => {
    const v = Array.from({ length: 101 }, (_, i) => i);
    expect(quantile(v, 0.5)).toBe(50);
    expect(decileEdges(v)).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90]);
    // 80 % zeros: most deciles coincide.
    const tied = [...new Array(80).fill(0), ...Array.from({ length: 20 }, (_, i) => i + 1)];
    const e = decileEdges(tied);
    expect(e[0]).toBe(0);
    expect(new Set(e).size).toBe(e.length);
    expect(e.length).toBeLessThan(9);
  });

  it('bins with the contract rule (edge values fall in the lower bin)', () => {
    const h = histogram([0, 0.5, 0.6, 1], [0.5]);
    expect(h.counts).toEqual([2, 2]);
    expect(binIndex([0.5], 0.5)).toBe(0);
  });

  it('builds a schema-valid profile with categorical midpoint edges and output summaries', () => {
    const r = mulberry32(4);
    const rows = 200;
    const x = new Float32Array(rows * 13);
    const p = new Float32Array(rows * 72);
    for (let i = 0; i < rows; i++) {
      x.set(
        [
          r() < 0.3 ? 1 : 0,
          150000 + r() * 1e5,
          r(),
          r(),
          Math.floor(r() * 12) - (i === 0 ? 1 : 0),
          -8 + r() * 5,
          r() < 0.6 ? 1 : 0,
          r() * 0.3,
          r(),
          0,
          r() * 0.4,
          r(),
          80 + r() * 90,
        ],
        i * 13,
      );
      for (let j = 0; j < 72; j++) p[i * 72 + j] = j === i % 72 ? 0.9 : 0.05;
    }
    const prof = ReferenceProfileSchema.parse(referenceProfile(x, p, rows));
    const byName = Object.fromEntries(prof.features.map((f) => [f.name, f]));
    expect(byName.mode?.kind).toBe('categorical');
    expect(byName.mode?.histogram.edges).toEqual([0.5]);
    expect(byName.key?.histogram.edges).toHaveLength(12);
    expect(byName.is_explicit?.histogram.edges).toEqual([0.5]);
    expect(byName.danceability?.histogram.edges).toHaveLength(9);
    expect(byName.instrumentalness?.histogram.edges).toEqual([0]); // all zero: nine equal deciles collapse to one
    for (const f of prof.features) expect(f.histogram.counts.reduce((a, b) => a + b, 0)).toBe(rows);
    expect(prof.outputs.top1Counts.reduce((a, b) => a + b, 0)).toBe(rows);
    expect(prof.outputs.top1Counts[0]).toBe(3); // rows 0, 72, 144
    expect(prof.outputs.meanProbability[0]).toBeCloseTo((3 * 0.9 + 197 * 0.05) / 200, 6);
    expect(prof.outputs.entropy.counts.reduce((a, b) => a + b, 0)).toBe(rows);
    expect(outputEntropy(p.subarray(0, 72))).toBeGreaterThan(0);
  });
});
