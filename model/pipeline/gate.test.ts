import { describe, expect, it } from 'vitest';
import type { Metrics } from '../contract/index.ts';
import { runGate } from './gate.ts';

const m = (macroAuc: number): Metrics => ({
  macroAuc,
  microAuc: 0.8,
  top5Hit: 0.4,
  precisionAt5: 0.2,
  recallAt5: 0.3,
  brier: 0.1,
});

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
