import { describe, expect, it } from 'vitest';
import { challenge, overallVerdict, standing } from './challenge.ts';

const iv = (mean: number, half = 0.01) => ({ mean, lo: mean - half, hi: mean + half, folds: 15 });
const diff = (auc: number, top5: number) => ({ macroAuc: iv(auc), top5Hit: iv(top5) });

describe('the one rule for replacing a model', () => {
  it('needs both metrics ahead beyond noise to replace a simpler model', () => {
    expect(challenge('big', 'small', diff(0.03, 0.03), false).replaces).toBe(true);
    const oneMetric = challenge('ensemble-2', 'network', diff(0.03, 0.005), false);
    expect(oneMetric.verdict).toBe('tie');
    expect(oneMetric.replaces).toBe(false);
    expect(oneMetric.reason).toBe(
      'ensemble-2 is ahead of network on macro AUC beyond noise but ties on top-5 hit: a tie, the simpler network is kept',
    );
  });

  it('lets a simpler challenger replace on a tie, never when it is worse on either metric', () => {
    expect(challenge('small', 'big', diff(0, 0), true).replaces).toBe(true);
    expect(challenge('small', 'big', diff(0, 0), true).reason).toMatch(/a tie, the simpler small replaces big/);
    const worse = challenge('small', 'big', diff(0.03, -0.03), true);
    expect(worse.verdict).toBe('worse');
    expect(worse.replaces).toBe(false);
    expect(worse.reason).toBe(
      'small is ahead of big on macro AUC beyond noise but behind on top-5 hit beyond noise: worse, big is kept',
    );
  });

  it('says where the challenger stands on each metric', () => {
    expect(standing(diff(-0.03, -0.03), 'x')).toBe('is behind x on both macro AUC and top-5 hit beyond noise');
    expect(standing(diff(0, 0.03), 'x')).toBe('ties with x on macro AUC but ahead on top-5 hit beyond noise');
    expect(overallVerdict(diff(0.03, 0.03))).toBe('better');
    expect(overallVerdict(diff(0.03, 0))).toBe('tie');
    expect(overallVerdict(diff(0.03, -0.03))).toBe('worse');
  });
});
