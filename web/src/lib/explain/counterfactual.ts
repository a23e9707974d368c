/**
 * Counterfactual search: the smallest change to at most a few features that
 * lifts one country's probability to a target the user chose (e.g. double
 * the odds, or the country's top 10%), staying inside each feature's domain
 * (what real charting songs look like). When nothing reaches the target, the
 * best reachable change is returned with its probability. A beam search over single-feature moves on a
 * grid, then each changed feature is pulled back toward its original value
 * (bisection) while the target still holds. Distance is the sum of changes
 * measured in reference standard deviations, so a 0.1 change in danceability
 * and 10 BPM of tempo are comparable.
 */
import type { BatchPredict } from './shapley.ts';

export interface FeatureDomain {
  readonly min: number;
  readonly max: number;
  /** 'integer' and 'boolean' values are searched on whole numbers. */
  readonly kind: 'boolean' | 'integer' | 'number';
  /** Unit of distance for this feature (e.g. its reference std); must be > 0. */
  readonly scale: number;
  /** False to leave a feature alone (e.g. explicit lyrics are not a marketing choice). */
  readonly mutable?: boolean;
}

export interface Change {
  readonly feature: number;
  readonly from: number;
  readonly to: number;
}

export type CounterfactualResult =
  | {
      readonly found: true;
      readonly changes: Change[];
      readonly input: number[];
      readonly probability: number;
      readonly distance: number;
    }
  | {
      readonly found: false;
      /** The highest probability any searched change reached (the start value when already above). */
      readonly best: number;
      readonly reason: 'already-above' | 'none-within-ranges';
      /** The change that reached `best` (none-within-ranges with some improvement only). */
      readonly closest?: { readonly changes: Change[]; readonly input: number[]; readonly distance: number };
    };

export interface CounterfactualOptions {
  readonly target?: number;
  readonly maxChanges?: number;
  readonly gridSteps?: number;
  readonly beamWidth?: number;
}

interface Candidate {
  readonly x: number[];
  readonly changed: readonly number[];
  readonly p: number;
  readonly distance: number;
}

function gridFor(d: FeatureDomain, steps: number): number[] {
  if (d.kind !== 'number') {
    const out: number[] = [];
    const stride = Math.max(1, Math.ceil((d.max - d.min) / steps));
    for (let v = d.min; v <= d.max; v += stride) out.push(v);
    if (out[out.length - 1] !== d.max) out.push(d.max);
    return out;
  }
  return Array.from({ length: steps + 1 }, (_, i) => d.min + ((d.max - d.min) * i) / steps);
}

function distanceOf(x: readonly number[], x0: readonly number[], domains: readonly FeatureDomain[]): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.abs(x[i]! - x0[i]!) / domains[i]!.scale;
  return s;
}

/**
 * @example
 * const r = await searchCounterfactual((x, rows) => pCountry(x, rows), input, domains, { target: 0.3 });
 * if (r.found) r.changes // [{ feature: 2, from: 0.41, to: 0.66 }]
 */
export async function searchCounterfactual(
  predict: BatchPredict,
  x0: readonly number[],
  domains: readonly FeatureDomain[],
  options: CounterfactualOptions = {},
): Promise<CounterfactualResult> {
  const target = options.target ?? 0.3;
  const maxChanges = options.maxChanges ?? 3;
  const steps = options.gridSteps ?? 20;
  const beamWidth = options.beamWidth ?? 4;
  const n = x0.length;
  const evalRows = async (rows: number[][]): Promise<ArrayLike<number>> => {
    const buf = new Float32Array(rows.length * n);
    rows.forEach((r, i) => {
      buf.set(r, i * n);
    });
    return predict(buf, rows.length);
  };
  const p0 = (await evalRows([[...x0]]))[0]!;
  if (p0 >= target) return { found: false, best: p0, reason: 'already-above' };

  const grids = domains.map((d) => gridFor(d, steps));
  let beam: Candidate[] = [{ x: [...x0], changed: [], p: p0, distance: 0 }];
  let best: Candidate | undefined;
  let bestP = p0;
  let closest: Candidate | undefined;
  for (let depth = 0; depth < maxChanges && !best; depth++) {
    const expansions: { x: number[]; changed: number[] }[] = [];
    for (const c of beam) {
      for (let f = 0; f < n; f++) {
        if (c.changed.includes(f) || domains[f]!.mutable === false) continue;
        for (const v of grids[f]!) {
          if (v === x0[f]) continue;
          const x = [...c.x];
          x[f] = v;
          expansions.push({ x, changed: [...c.changed, f] });
        }
      }
    }
    if (expansions.length === 0) break;
    const ps = await evalRows(expansions.map((e) => e.x));
    const scored: Candidate[] = expansions.map((e, i) => ({
      x: e.x,
      changed: e.changed,
      p: ps[i]!,
      distance: distanceOf(e.x, x0, domains),
    }));
    for (const s of scored) {
      if (s.p > bestP) {
        bestP = s.p;
        closest = s;
      }
      if (s.p >= target && (!best || s.distance < best.distance)) best = s;
    }
    // Keep the moves that buy the most probability per unit of change, one per feature set.
    const seen = new Set<string>();
    beam = scored
      .filter((s) => s.p > p0)
      .sort((a, b) => (b.p - p0) / (b.distance + 1e-9) - (a.p - p0) / (a.distance + 1e-9))
      .filter((s) => {
        const key = [...s.changed].sort().join(',');
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      })
      .slice(0, beamWidth);
  }
  if (!best) {
    if (!closest) return { found: false, best: bestP, reason: 'none-within-ranges' };
    const c = closest;
    const changes = c.changed
      .filter((f) => c.x[f] !== x0[f])
      .map((f) => ({ feature: f, from: x0[f]!, to: c.x[f]! }))
      .sort((a, b) => a.feature - b.feature);
    return {
      found: false,
      best: bestP,
      reason: 'none-within-ranges',
      closest: { changes, input: c.x, distance: c.distance },
    };
  }

  // Shrink each change toward the original while the target still holds.
  const x = [...best.x];
  for (const f of best.changed) {
    const d = domains[f]!;
    let lo = x0[f]!; // fails (or untested)
    let hi = x[f]!; // holds
    for (let it = 0; it < 12; it++) {
      let mid = (lo + hi) / 2;
      if (d.kind !== 'number') mid = hi > lo ? Math.ceil(mid) : Math.floor(mid);
      if (mid === hi || mid === lo) break;
      const trial = [...x];
      trial[f] = mid;
      if ((await evalRows([trial]))[0]! >= target) hi = mid;
      else lo = mid;
    }
    x[f] = hi;
  }
  const p = (await evalRows([x]))[0]!;
  const changes = best.changed
    .filter((f) => x[f] !== x0[f])
    .map((f) => ({ feature: f, from: x0[f]!, to: x[f]! }))
    .sort((a, b) => a.feature - b.feature);
  return { found: true, changes, input: x, probability: p, distance: distanceOf(x, x0, domains) };
}
