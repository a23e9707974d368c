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
});
