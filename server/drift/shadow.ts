/**
 * Shadow comparison: when devices run a candidate beside the active model,
 * how often the two agree on the top-1 country, how often the candidate's
 * top-1 is in the active model's top 5, and the mean absolute difference of
 * the 72 probabilities. Sums per (active, shadow, UTC day), mergeable like
 * the drift buckets; every logged row counts (the question is how the models
 * differ on the traffic they see).
 */
export interface ShadowStats {
  n: number;
  top1Agree: number;
  top1InTop5: number;
  sumMeanAbsDiff: number;
  sumShadowLatencyMs: number;
}

export function emptyShadow(): ShadowStats {
  return { n: 0, top1Agree: 0, top1InTop5: 0, sumMeanAbsDiff: 0, sumShadowLatencyMs: 0 };
}

function argmax(xs: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if ((xs[i] as number) > (xs[best] as number)) best = i;
  return best;
}

export function addShadow(
  s: ShadowStats,
  active: readonly number[],
  shadow: readonly number[],
  latencyMs: number,
): void {
  s.n++;
  const a = argmax(active);
  const b = argmax(shadow);
  if (a === b) s.top1Agree++;
  // b is in the active top 5 when fewer than 5 active probabilities beat it.
  const pb = active[b] as number;
  let above = 0;
  for (const p of active) if (p > pb) above++;
  if (above < 5) s.top1InTop5++;
  let d = 0;
  for (let i = 0; i < active.length; i++) d += Math.abs((active[i] as number) - ((shadow[i] as number) ?? 0));
  s.sumMeanAbsDiff += d / active.length;
  s.sumShadowLatencyMs += latencyMs;
}

export function mergeShadow(a: ShadowStats, b: ShadowStats): ShadowStats {
  a.n += b.n;
  a.top1Agree += b.top1Agree;
  a.top1InTop5 += b.top1InTop5;
  a.sumMeanAbsDiff += b.sumMeanAbsDiff;
  a.sumShadowLatencyMs += b.sumShadowLatencyMs;
  return a;
}

export interface ShadowSummary {
  n: number;
  top1Agreement: number | null;
  top1InActiveTop5: number | null;
  meanAbsDiff: number | null;
  meanShadowLatencyMs: number | null;
}

export function summariseShadow(s: ShadowStats): ShadowSummary {
  const r = (x: number) => (s.n > 0 ? x / s.n : null);
  return {
    n: s.n,
    top1Agreement: r(s.top1Agree),
    top1InActiveTop5: r(s.top1InTop5),
    meanAbsDiff: r(s.sumMeanAbsDiff),
    meanShadowLatencyMs: r(s.sumShadowLatencyMs),
  };
}
