import { describe, expect, it } from 'vitest';
import { type DenseWeights, predictReference } from '../runtime/dense-model.ts';
import { rocAuc } from '../stats/roc-auc.ts';
import { applyCalibration, fitCalibration, fitPlatt } from './calibrate.ts';
import { mulberry32 } from './prng.ts';

describe('calibration', () => {
  it('Platt fit recovers the scale and offset that generated the labels', () => {
    const r = mulberry32(3);
    const z: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < 20000; i++) {
      const v = (r() - 0.5) * 8;
      z.push(v);
      y.push(r() < 1 / (1 + Math.exp(-(0.5 * v - 1))) ? 1 : 0);
    }
    const { a, b } = fitPlatt(z, y);
    expect(a).toBeCloseTo(0.5, 1);
    expect(b).toBeCloseTo(-1, 1);
  });

  it('folds into the output layer: sigmoid(a·(logit + shift) + b), per-country ranking unchanged', () => {
    const r = mulberry32(5);
    const k = 3;
    const w: DenseWeights = {
      inputSize: 2,
      outputSize: k,
      layers: [
        {
          inputs: 2,
          units: 4,
          activation: 'relu',
          kernel: Float32Array.from({ length: 8 }, () => r() - 0.5),
          bias: new Float32Array(4),
        },
        {
          inputs: 4,
          units: k,
          activation: 'sigmoid',
          kernel: Float32Array.from({ length: 12 }, () => r() * 6 - 3),
          bias: new Float32Array([0.5, 1, 1.5]),
        },
      ],
    };
    const xs = Array.from({ length: 200 }, () => [r() * 4 - 2, r() * 4 - 2]);
    const before = xs.map((x) => predictReference(w, x));
    const probs = Float32Array.from(before.flatMap((p) => Array.from(p)));
    // Over-predicting model: labels drawn at a third of its probabilities.
    const labels = Float32Array.from(probs, (p) => (r() < p / 3 ? 1 : 0));
    const cal = fitCalibration(probs, labels, [4, 1, 2]);
    expect(cal.shift[0]).toBeCloseTo(-Math.log(4), 12);
    const cw = applyCalibration(w, cal);
    const after = xs.map((x) => predictReference(cw, x));
    for (let i = 0; i < 5; i++) {
      for (let c = 0; c < k; c++) {
        const p = before[i]![c] as number;
        const z = Math.log(p / (1 - p));
        expect(after[i]![c]).toBeCloseTo(1 / (1 + Math.exp(-(cal.a * (z + (cal.shift[c] as number)) + cal.b))), 5);
      }
    }
    const col = (ps: Float64Array[], c: number) => ps.map((p) => p[c] as number);
    const ys = (c: number) => xs.map((_, i) => labels[i * k + c] as number);
    for (let c = 0; c < k; c++)
      expect(rocAuc(col(after, c), ys(c))).toBeCloseTo(rocAuc(col(before, c), ys(c)) as number, 12);
    const meanBefore = probs.reduce((s, v) => s + v, 0) / probs.length;
    const meanAfter = after.flat().reduce((s, p) => s + Array.from(p).reduce((t, v) => t + v, 0), 0) / probs.length;
    const observed = labels.reduce((s, v) => s + v, 0) / labels.length;
    expect(Math.abs(meanAfter - observed)).toBeLessThan(Math.abs(meanBefore - observed));
  });

  it('never reverses rankings: with a negative fitted slope it keeps the scale and fits the offset', () => {
    const probs = Float32Array.from({ length: 400 }, (_, i) => 0.05 + (0.9 * i) / 400);
    const labels = Float32Array.from(probs, (p) => (p < 0.2 ? 1 : 0)); // anti-correlated
    const cal = fitCalibration(probs, labels, [1]);
    expect(cal.a).toBe(1);
    const mean = probs.reduce((s, p) => s + 1 / (1 + Math.exp(-(Math.log(p / (1 - p)) + cal.b))), 0) / probs.length;
    expect(mean).toBeCloseTo(labels.reduce((s, v) => s + v, 0) / labels.length, 4);
  });
});
