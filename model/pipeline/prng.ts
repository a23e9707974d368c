/**
 * A small seeded PRNG (mulberry32) and a Fisher–Yates shuffle on it, so every
 * random choice in the pipeline (split, batch order, initializer and dropout
 * seeds) follows from the run's one seed and nothing uses Math.random.
 */

import { mulberry32, type Random } from '../runtime/prng.ts';

export { mulberry32, type Random };

/** In-place Fisher–Yates shuffle. */
export function shuffleInPlace<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = items[i] as T;
    items[i] = items[j] as T;
    items[j] = t;
  }
  return items;
}

/** A derived 31-bit seed for a named purpose, so adding one consumer never shifts another's stream. */
export function deriveSeed(seed: number, purpose: string): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < purpose.length; i++) h = Math.imul(h ^ purpose.charCodeAt(i), 0x01000193) >>> 0;
  return (mulberry32(h)() * 0x7fffffff) >>> 0;
}
