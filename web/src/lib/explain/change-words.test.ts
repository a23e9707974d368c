import { describe, expect, it } from 'vitest';
import { FEATURE_NAMES } from '../../../../model/contract/features.ts';
import { describeChange } from './change-words.ts';

const f = (n: (typeof FEATURE_NAMES)[number]) => FEATURE_NAMES.indexOf(n);

describe('describeChange', () => {
  it('says a change in plain words, how much judged in reference standard deviations', () => {
    expect(describeChange({ feature: f('danceability'), from: 0.62, to: 0.71 }, 0.2)).toBe(
      'a bit more danceable: 0.62 → 0.71',
    );
    expect(describeChange({ feature: f('loudness'), from: -8.1, to: -5.9 }, 2)).toBe('louder: -8.1 dB → -5.9 dB');
    expect(describeChange({ feature: f('tempo'), from: 120, to: 80 }, 25)).toBe('much slower: 120 BPM → 80 BPM');
    expect(describeChange({ feature: f('duration_ms'), from: 187_000, to: 200_000 }, 50_000)).toBe(
      'a bit longer: 3:07 → 3:20',
    );
    expect(describeChange({ feature: f('mode'), from: 0, to: 1 }, 0.5)).toBe('in a major key');
    expect(describeChange({ feature: f('key'), from: 0, to: 2 }, 3)).toBe('in another key: C → D');
  });
});
