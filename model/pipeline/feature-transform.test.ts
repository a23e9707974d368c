import { describe, expect, it } from 'vitest';
import { FEATURE_NAMES } from '../contract/index.ts';
import { randomDenseNet } from '../testing/random-dense.ts';
import { logitsOf } from './candidates.ts';
import { fifthsPosition, fitFeatureTransform } from './feature-transform.ts';
import { mulberry32 } from './prng.ts';
import { applyQuantileTransform, prependTransform } from './quantile-transform.ts';
import { applyScaler, fitScaler } from './scaler.ts';

const IN = FEATURE_NAMES.length;
const col = (n: (typeof FEATURE_NAMES)[number]) => FEATURE_NAMES.indexOf(n);

/** Songs with realistic ranges: durations 2–5 min, tempo 60–200 BPM, integer keys. */
function songs(rows: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  const x = new Float32Array(rows * IN);
  for (let i = 0; i < rows; i++)
    for (let c = 0; c < IN; c++) {
      const v =
        c === col('duration_ms')
          ? 120_000 + r() * 180_000
          : c === col('tempo')
            ? 60 + r() * 140
            : c === col('key')
              ? Math.floor(r() * 12)
              : r();
      x[i * IN + c] = v;
    }
  return x;
}

describe('engineered features', () => {
  const rows = 300;
  const raw = songs(rows, 3);
  const scaler = fitScaler(raw, rows, IN);
  const q = fitFeatureTransform(raw, rows, scaler);
  /** The transformed value of one song with feature `c` set to `v` (others from song 0). */
  const at = (c: number, v: number) => {
    const one = raw.slice(0, IN);
    one[c] = v;
    return applyQuantileTransform(q, applyScaler(one, scaler), 1)[c] as number;
  };

  it('folds tempo into 60–120 BPM, puts keys on the circle of fifths, takes the log of duration', () => {
    const t = col('tempo');
    const st = q[t]?.scale as number;
    expect(at(t, 160)).toBeCloseTo(at(t, 80), 4);
    expect(at(t, 90)).toBeCloseTo(at(t, 45), 4);
    expect((at(t, 100) - at(t, 80)) / st).toBeCloseTo(20, 3);
    const k = col('key');
    const sk = q[k]?.scale as number;
    for (let key = 1; key < 12; key++) expect((at(k, key) - at(k, 0)) / sk).toBeCloseTo(fifthsPosition(key), 3);
    expect(fifthsPosition(1)).toBe(7);
    // Log duration: doubling the duration adds log 2 (within the piecewise-linear error between knots).
    const d = col('duration_ms');
    const sd = q[d]?.scale as number;
    expect((at(d, 280_000) - at(d, 140_000)) / sd).toBeCloseTo(Math.log(2), 2);
    // Other features pass unchanged up to standardisation.
    const e = col('energy');
    expect((at(e, 0.75) - at(e, 0.25)) / (q[e]?.scale as number)).toBeCloseTo(0.5, 4);
  });

  it('folds exactly into one relu layer in front of the network', () => {
    const net = randomDenseNet([16], 5);
    const x = applyScaler(songs(50, 9), scaler);
    const want = logitsOf(net, applyQuantileTransform(q, x, 50), 50);
    const got = logitsOf(prependTransform(q, net), x, 50);
    let max = 0;
    for (let i = 0; i < want.length; i++) max = Math.max(max, Math.abs((got[i] as number) - (want[i] as number)));
    expect(max).toBeLessThan(1e-4);
  });
});
