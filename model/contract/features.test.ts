import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FEATURE_NAMES,
  type Features,
  featureFingerprint,
  fingerprintText,
  fromVector,
  parseDurationText,
  parseFeatures,
  parseNumberText,
  toVector,
} from './features.ts';

const good: Record<string, unknown> = {
  is_explicit: 'TRUE',
  duration_ms: '126266',
  danceability: '0.589',
  energy: 0.472,
  key: '8',
  loudness: '-8.749',
  mode: '1',
  speechiness: '0.0502',
  acousticness: '0.614',
  instrumentalness: '0',
  liveness: '0.505',
  valence: '0.898',
  tempo: '67.196',
};

describe('parseFeatures', () => {
  it('parses CSV-style strings into numbers in range', () => {
    const r = parseFeatures(good);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.value.is_explicit).toBe(1);
      expect(r.value.duration_ms).toBe(126266);
      expect(r.value.loudness).toBeCloseTo(-8.749);
      expect(toVector(r.value)).toHaveLength(13);
    }
  });

  it('accepts the boolean spellings of the chart data', () => {
    for (const [w, v] of [
      ['FALSE', 0],
      ['false', 0],
      ['True', 1],
      [true, 1],
    ] as const) {
      const r = parseFeatures({ ...good, is_explicit: w });
      expect(r.ok && r.value.is_explicit).toBe(v);
    }
  });

  it('reports every bad field with its own code', () => {
    const r = parseFeatures({
      ...good,
      danceability: '1.4',
      tempo: 'fast',
      key: '2.5',
      energy: '',
      is_explicit: 'maybe',
    });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      const byField = Object.fromEntries(r.errors.map((e) => [e.field, e.code]));
      expect(byField).toEqual({
        danceability: 'feature-out-of-range',
        tempo: 'feature-not-a-number',
        key: 'feature-not-an-integer',
        energy: 'feature-missing',
        is_explicit: 'feature-not-boolean',
      });
    }
  });

  it('rejects hex, Infinity and NaN that Number() would accept', () => {
    for (const v of ['0x1', 'Infinity', 'NaN', Number.NaN, Number.POSITIVE_INFINITY]) {
      const r = parseFeatures({ ...good, tempo: v });
      expect(r.ok).toBe(false);
    }
  });
});

describe('featureFingerprint', () => {
  it('is stable under CSV round-trip noise and differs for different songs', () => {
    const r = parseFeatures(good);
    if (!r.ok) throw new Error('fixture');
    const a = featureFingerprint(r.value);
    const noisy: Features = { ...r.value, danceability: 0.589 + 1e-12 };
    expect(featureFingerprint(noisy)).toBe(a);
    expect(featureFingerprint({ ...r.value, danceability: 0.59 })).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{16}$/);
  });

  it('keeps the fingerprints already stored on devices and servers', () => {
    const v = [1, 215000, 0.589, 0.734, 5, -5.883, 1, 0.0461, 0.12, 0, 0.11, 0.62, 120.012];
    expect(featureFingerprint(fromVector(v))).toBe('b05e27c75a9cedec');
  });

  it('hashes each value at six significant digits, for any values (the fast path never changes the text)', () => {
    // The definition the device and stored fingerprints rely on, written plainly.
    const reference = (f: Features) => FEATURE_NAMES.map((n) => Number(f[n].toPrecision(6)).toString()).join('|');
    const value = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.integer(),
      fc.constantFrom(0, -0, 1),
    );
    const features = fc.tuple(...FEATURE_NAMES.map(() => value)).map((v) => fromVector(v));
    fc.assert(
      fc.property(fc.array(features, { minLength: 1, maxLength: 40 }), (fs) => {
        for (const f of fs) expect(fingerprintText(f)).toBe(reference(f));
      }),
      { numRuns: 300 },
    );
    const spotify = fc
      .tuple(...FEATURE_NAMES.map(() => fc.integer({ min: -60_000, max: 300_000 })))
      .map((v) => fromVector(v.map((x, k) => (k % 2 === 0 ? x / 1000 : x))));
    fc.assert(
      fc.property(spotify, (f) => {
        expect(fingerprintText(f)).toBe(reference(f));
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips vectors in input order', () => {
    const v = FEATURE_NAMES.map((_, i) => i);
    expect(toVector(fromVector(v))).toEqual(v);
  });
});

describe('locale-proof numbers and durations', () => {
  it('reads decimal commas, Unicode minus and grouped digits, and refuses what no one means', () => {
    expect(parseNumberText('0,5')).toBe(0.5);
    expect(parseNumberText(' −6 ')).toBe(-6);
    expect(parseNumberText('−6,25')).toBe(-6.25);
    expect(parseNumberText('200 000')).toBe(200_000);
    expect(parseNumberText('200\u202f000')).toBe(200_000);
    for (const bad of ['1,234.5', '1,2,3', '0x10', 'Infinity', '', '−', '5 dB', '12 34']) {
      expect(parseNumberText(bad), bad).toBeNull();
    }
    const r = parseFeatures({ ...good, danceability: '0,62', loudness: '−6,1' });
    expect(r.ok && [r.value.danceability, r.value.loudness]).toEqual([0.62, -6.1]);
  });

  it('reads a typed duration as m:ss, minutes, seconds or milliseconds, never 3.5 as seconds', () => {
    expect(parseDurationText('3:30')).toEqual({ ms: 210_000, reading: 'm:ss' });
    expect(parseDurationText('3:07,5')).toEqual({ ms: 187_500, reading: 'm:ss' });
    expect(parseDurationText('3.5')).toEqual({ ms: 210_000, reading: 'minutes' });
    expect(parseDurationText('3,5')).toEqual({ ms: 210_000, reading: 'minutes' });
    expect(parseDurationText('210')).toEqual({ ms: 210_000, reading: 'seconds' });
    expect(parseDurationText('200000')).toEqual({ ms: 200_000, reading: 'milliseconds' });
    expect(parseDurationText('5000')).toBeNull();
    expect(parseDurationText('3 min')).toBeNull();
    const flexible = parseFeatures({ ...good, duration_ms: '3.5' }, { durations: 'flexible' });
    expect(flexible.ok && [flexible.value.duration_ms, flexible.durationReading]).toEqual([210_000, 'minutes']);
    const unclear = parseFeatures({ ...good, duration_ms: '5000' }, { durations: 'flexible' });
    expect(!unclear.ok && unclear.errors.map((e) => e.code)).toEqual(['feature-duration-unclear']);
    // The pipeline and server keep milliseconds: 3.5 there is not a duration.
    const strict = parseFeatures({ ...good, duration_ms: '3.5' });
    expect(!strict.ok && strict.errors.map((e) => e.code)).toEqual(['feature-not-an-integer']);
  });
});
