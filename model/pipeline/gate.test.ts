import { describe, expect, it } from 'vitest';
import { metricsWithMacroAuc as m } from '../testing/metrics.ts';
import { crossValidate, pairedDifference } from './cross-validate.ts';
import { runCvGate, runGate } from './gate.ts';
import { computeMetrics } from './metrics.ts';
import { mulberry32 } from './prng.ts';
import { splitBySong } from './split.ts';
import type { Song } from './targets.ts';

describe('quality gate', () => {
  it('passes a candidate that beats logistic regression with no production model', () => {
    const g = runGate({ candidate: m(0.75), logistic: m(0.7), tolerance: 0.01 });
    expect(g.passed).toBe(true);
  });
  it('refuses a candidate that does not beat logistic regression', () => {
    const g = runGate({ candidate: m(0.7), logistic: m(0.7), tolerance: 0.01 });
    expect(g.passed).toBe(false);
    expect(g.checks[0]?.message).toMatch(/≤ logistic/);
  });
  it('refuses a candidate worse than production by more than the tolerance, allows within it', () => {
    const prod = { version: 'vprod', metrics: m(0.8) };
    expect(runGate({ candidate: m(0.785), logistic: m(0.7), production: prod, tolerance: 0.01 }).passed).toBe(false);
    const within = runGate({ candidate: m(0.795), logistic: m(0.7), production: prod, tolerance: 0.01 });
    expect(within.passed).toBe(true);
    expect(within.checks[1]?.message).toMatch(/vprod/);
  });
  it('compares recent field outcomes when there are enough pairs, and skips the check when there are not', () => {
    const base = { candidate: m(0.75), logistic: m(0.7), tolerance: 0.01 };
    const worse = runGate({
      ...base,
      recent: { pairs: 500, songs: 40, minPairs: 50, candidateAuc: 0.6, productionAuc: 0.7 },
    });
    expect(worse.passed).toBe(false);
    expect(worse.checks.at(-1)?.message).toMatch(/recent outcomes: AUC 0.6000 vs production 0.7000.*worse by 0.1000/);
    const better = runGate({
      ...base,
      recent: { pairs: 500, songs: 40, minPairs: 50, candidateAuc: 0.72, productionAuc: 0.7 },
    });
    expect(better.passed).toBe(true);
    const few = runGate({
      ...base,
      recent: { pairs: 10, songs: 2, minPairs: 50, candidateAuc: 0.1, productionAuc: 0.9 },
    });
    expect(few.passed).toBe(true);
    expect(few.checks.at(-1)?.message).toMatch(/not compared/);
  });
});

describe('quality gate on cross-validation', () => {
  // Songs with a true per-country affinity; two fixed scorers see it through noise. The "candidate" sees it
  // through more noise than "logistic", so it is worse on average; on one lucky split it still comes out ahead.
  const K = 72;
  const N = 360;
  const random = mulberry32(2026);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const truth = Float64Array.from({ length: N * K }, () => gauss());
  const songs: Song[] = Array.from({ length: N }, (_, i) => {
    const row = Array.from(truth.subarray(i * K, (i + 1) * K));
    const y = row
      .map((v, c) => [v, c] as const)
      .filter(([v]) => v > 1.6)
      .map(([, c]) => c);
    const best = row.indexOf(Math.max(...row));
    return { id: `song-${String(i).padStart(3, '0')}`, x: new Array(13).fill(0), y: y.length > 0 ? y : [best] };
  });
  const index = new Map(songs.map((s, i) => [s.id, i]));
  const scorer = (noise: number) => {
    const e = Float64Array.from({ length: N * K }, () => gauss() * noise);
    return (list: readonly Song[]) => {
      const out = new Float32Array(list.length * K);
      list.forEach((s, r) => {
        const i = index.get(s.id) as number;
        for (let c = 0; c < K; c++) out[r * K + c] = (truth[i * K + c] as number) + (e[i * K + c] as number);
      });
      return out;
    };
  };
  const logistic = scorer(1.0);
  const candidate = scorer(1.25);
  const labels = (list: readonly Song[]) => {
    const y = new Float32Array(list.length * K);
    list.forEach((s, r) => {
      for (const c of s.y) y[r * K + c] = 1;
    });
    return y;
  };

  it('refuses a candidate worse than logistic under CV although a lucky single split favours it', async () => {
    // Split seed 40 is such a lucky split (2 of the seeds 1–50 are; found once by scanning, fixed here).
    const sp = splitBySong(songs, { seed: 40, validationShare: 0.15, testShare: 0.15 });
    const y = labels(sp.test);
    const single = runGate({
      candidate: computeMetrics(candidate(sp.test), y, sp.test.length, K),
      logistic: computeMetrics(logistic(sp.test), y, sp.test.length, K),
      tolerance: 0.01,
    });
    expect(single.passed).toBe(true);

    const cv = await crossValidate(songs, { folds: 5, repeats: 3, innerValidationShare: 0.15 }, 42, async (f) => ({
      scores: { candidate: candidate(f.test), logistic: logistic(f.test) },
      epochs: {},
    }));
    const vsLogistic = pairedDifference(cv.folds, 'candidate', 'logistic');
    expect(vsLogistic.macroAuc.mean).toBeLessThan(0);
    const gate = runCvGate({ candidate: 'candidate', vsLogistic, tolerance: 0.01 });
    expect(gate.passed).toBe(false);
    expect(gate.checks[0]?.message).toMatch(/worse than logistic regression|a tie within noise/);
  });

  it('passes a clearly better candidate, and on a tie keeps the simpler model', () => {
    const iv = (mean: number, half: number) => ({ mean, lo: mean - half, hi: mean + half, folds: 15 });
    const better = { macroAuc: iv(0.03, 0.01), top5Hit: iv(0.05, 0.02) };
    expect(runCvGate({ candidate: 'net', vsLogistic: better, tolerance: 0.01 }).passed).toBe(true);
    const tie = runCvGate({
      candidate: 'net',
      vsLogistic: { macroAuc: iv(0.03, 0.01), top5Hit: iv(0.01, 0.02) },
      tolerance: 0.01,
    });
    expect(tie.passed).toBe(false);
    expect(tie.checks[0]?.message).toMatch(/tie within noise, so the simpler model \(logistic regression\) is kept/);
    const prodTie = (candidateSimpler: boolean) =>
      runCvGate({
        candidate: 'net',
        vsLogistic: better,
        production: {
          version: 'vp',
          sameRecipe: false,
          difference: { macroAuc: iv(0, 0.01), top5Hit: iv(0, 0.01) },
          candidateSimpler,
        },
        tolerance: 0.01,
      });
    expect(prodTie(true).passed).toBe(true);
    expect(prodTie(false).passed).toBe(false);
    expect(prodTie(false).checks[1]?.message).toMatch(/simpler production model is kept/);
  });
});
