import { describe, expect, it } from 'vitest';
import { COUNTRY_CODES } from '../../model/contract/index.ts';
import { macroAuc } from '../../model/pipeline/metrics.ts';
import { rocAuc } from '../../model/stats/roc-auc.ts';
import { matchPrediction, unitMetrics } from './performance.ts';

const p = (day: string, hour = '10', v = 0.5) => ({
  day,
  createdAt: `${day}T${hour}:00:00.000Z`,
  outputs: COUNTRY_CODES.map(() => v),
});

describe('matchPrediction', () => {
  const list = [
    p('2026-01-01', '10', 0.1),
    p('2026-03-01', '09', 0.2),
    p('2026-03-01', '18', 0.3),
    p('2026-03-10', '10', 0.4),
  ];
  it('takes the latest prediction on or before the chart date', () => {
    expect(matchPrediction(list, '2026-03-05', 90)).toEqual({ outputs: list[2]?.outputs });
    // The chart day itself counts (the chart of a day is published after it).
    expect(matchPrediction(list, '2026-03-10', 90)).toEqual({ outputs: list[3]?.outputs });
  });
  it('never lets a later prediction judge an earlier chart, and says why nothing matched', () => {
    expect(matchPrediction(list, '2025-12-31', 90)).toEqual({ reason: 'predictedAfter' });
    expect(matchPrediction([list[0]!], '2026-06-01', 90)).toEqual({ reason: 'tooOld' });
    expect(matchPrediction(undefined, '2026-06-01', 90)).toEqual({ reason: 'noPrediction' });
  });
});

describe('unitMetrics', () => {
  // 60 songs, 3 covered countries: the model's score is informative but noisy.
  let seed = 7;
  const random = () => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  const units = Array.from({ length: 60 }, () => {
    const outputs = COUNTRY_CODES.map(() => random());
    const countries = new Map<number, boolean>();
    for (const c of [0, 1, 2]) countries.set(c, random() < (outputs[c] as number) * 0.8);
    return { outputs, countries };
  });

  it('equals the pipeline metrics on the same units, with an interval around each', () => {
    const m = unitMetrics(units, 10);
    expect(m.enough).toBe(true);
    const y = units.flatMap((u) => COUNTRY_CODES.map((_, c) => (u.countries.get(c) ? 1 : 0)));
    const probs = units.flatMap((u) => u.outputs);
    // Macro over the covered countries with both classes (the pipeline's macro skips one-class columns).
    expect(m.macroAuc?.value).toBeCloseTo(macroAuc(probs, y, units.length, COUNTRY_CODES.length), 12);
    const pooled = rocAuc(
      units.flatMap((u) => [0, 1, 2].map((c) => u.outputs[c] as number)),
      units.flatMap((u) => [0, 1, 2].map((c) => (u.countries.get(c) ? 1 : 0))),
    );
    expect(m.pooledAuc?.value).toBeCloseTo(pooled ?? Number.NaN, 12);
    for (const i of [m.macroAuc, m.pooledAuc, m.top5Hit]) {
      expect(i?.lo).toBeLessThanOrEqual(i?.value ?? 0);
      expect(i?.hi).toBeGreaterThanOrEqual(i?.value ?? 1);
      expect((i?.hi ?? 0) - (i?.lo ?? 0)).toBeGreaterThan(0);
    }
  });

  it('gives "too few outcomes" and no numbers under the minimum', () => {
    const m = unitMetrics(units.slice(0, 8), 30);
    expect(m.enough).toBe(false);
    expect([m.macroAuc, m.pooledAuc, m.top5Hit]).toEqual([null, null, null]);
    expect(m.note).toMatch(/too few outcomes/);
  });
});
