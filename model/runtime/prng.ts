/**
 * The one seeded PRNG (mulberry32) used wherever a random choice must be
 * reproducible: the pipeline (split, batch order, seeds), explanations on the
 * device, test fixtures and the chaos proxy's fault pattern.
 */

export type Random = () => number;

/** Uniform [0, 1) from a 32-bit seed. */
export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
