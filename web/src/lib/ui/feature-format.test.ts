import { describe, expect, it } from 'vitest';
import { batchResultCsv, topCountries } from '../batch/batch-csv.ts';
import { PRESETS } from '../catalogue/presets.ts';
import {
  durationEcho,
  formatDuration,
  formatReference,
  formatValue,
  readForm,
  toFormValues,
} from './feature-format.ts';

describe('form values', () => {
  it('round-trips a song through the form text and the contract parser', () => {
    const song = PRESETS[2]!;
    const r = readForm(toFormValues(song.features));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    // Duration is shown to the second, so it comes back rounded to whole seconds.
    expect(r.value.duration_ms).toBe(230_000);
    expect({ ...r.value, duration_ms: 0 }).toEqual({ ...song.features, duration_ms: 0 });
  });

  it('reads the form as a person types it: m:ss, minutes, seconds, ms, decimal comma, Unicode minus', () => {
    const base = toFormValues(PRESETS[0]!.features);
    const read = (duration: string) => {
      const r = readForm({ ...base, duration_ms: duration });
      return r.ok ? [r.value.duration_ms, durationEcho(duration, r.durationReading, r.value.duration_ms)] : null;
    };
    expect(read('3:25')).toEqual([205_000, null]);
    expect(read('0:59.5')).toEqual([59_500, null]);
    expect(read('205')).toEqual([205_000, '205 → 3:25 (read as seconds)']);
    expect(read('3.5')).toEqual([210_000, '3.5 → 3:30 (read as minutes)']);
    expect(read('200000')).toEqual([200_000, '200000 → 3:20 (read as milliseconds)']);
    const comma = readForm({ ...base, danceability: '0,5', loudness: '−6' });
    expect(comma.ok && [comma.value.danceability, comma.value.loudness]).toEqual([0.5, -6]);
    const bad = readForm({ ...base, duration_ms: '3 min' });
    expect(bad.ok === false && bad.errors.map((e) => [e.field, e.code])).toEqual([
      ['duration_ms', 'feature-duration-unclear'],
    ]);
    expect(formatDuration(205_400)).toBe('3:25');
  });

  it('formats values and reference means in their own units', () => {
    expect(formatValue('key', 1)).toBe('C♯/D♭');
    expect(formatValue('key', -1)).toBe('not detected');
    expect(formatValue('mode', 0)).toBe('minor');
    expect(formatValue('loudness', -5.93)).toBe('-5.9 dB');
    expect(formatReference('is_explicit', 0.28)).toBe('28% explicit');
    expect(formatReference('mode', 0.51)).toBe('51% major');
  });
});

describe('batch CSV', () => {
  it('writes one row per song with top countries and all 72 probabilities', () => {
    const out = new Float32Array(2 * 72).fill(0.01);
    out[3] = 0.9; // AU
    out[72 + 71] = 0.8; // ZA
    const csv = batchResultCsv(PRESETS.slice(0, 2), out).split(/\r?\n/);
    expect(csv).toHaveLength(3);
    expect(csv[0]!.split(',')).toHaveLength(76);
    expect(csv[1]).toContain('AU 90.0%');
    expect(csv[2]).toContain('ZA 80.0%');
    expect(topCountries(out.subarray(0, 72), 1)).toEqual([3]);
  });
});
