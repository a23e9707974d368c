import { describe, expect, it } from 'vitest';
import { FEATURE_NAMES } from '../../../../model/contract/features.ts';
import { makeTinyModel } from '../../../../model/testing/tiny-model.ts';
import { counterfactualDomains } from './domains.ts';

describe('counterfactualDomains', () => {
  it('narrows continuous features to reference mean ± 3 std inside the valid range, and freezes explicit', async () => {
    const { manifest } = await makeTinyModel();
    const d = counterfactualDomains(manifest);
    const at = (n: (typeof FEATURE_NAMES)[number]) => d[FEATURE_NAMES.indexOf(n)]!;
    // Loudness: mean −6.6, std 2.6 → up to +1.2 dB, not the contract's +5 dB.
    expect(at('loudness').max).toBeCloseTo(-6.6 + 3 * 2.6, 6);
    expect(at('loudness').min).toBeCloseTo(-6.6 - 3 * 2.6, 6);
    // 0–1 features stay clipped to their valid range.
    expect(at('danceability').max).toBe(1);
    expect(at('is_explicit').mutable).toBe(false);
    expect(at('tempo').scale).toBe(28);
    // Whole-number features keep their full range.
    expect(at('key')).toMatchObject({ min: -1, max: 11, kind: 'integer' });
  });

  it('keeps changes within the bounds of real charting songs when the manifest has them', async () => {
    const { manifest } = await makeTinyModel();
    const byFeature = Object.fromEntries(FEATURE_NAMES.map((n) => [n, { low: 0, high: 1 }])) as NonNullable<
      typeof manifest.featureBounds
    >['byFeature'];
    byFeature.loudness = { low: -16.5, high: -2.1 };
    byFeature.duration_ms = { low: 103_271.5, high: 410_672.4 };
    byFeature.key = { low: 0, high: 11 };
    const d = counterfactualDomains({ ...manifest, featureBounds: { songs: 10, quantiles: [0.01, 0.99], byFeature } });
    const at = (n: (typeof FEATURE_NAMES)[number]) => d[FEATURE_NAMES.indexOf(n)]!;
    expect(at('loudness')).toMatchObject({ min: -16.5, max: -2.1 });
    expect(at('duration_ms')).toMatchObject({ min: 103_272, max: 410_672 });
    expect(at('key')).toMatchObject({ min: 0, max: 11 });
    expect(at('is_explicit').mutable).toBe(false);
  });

  it('falls back to the contract ranges without a manifest', () => {
    const d = counterfactualDomains(null);
    expect(d[FEATURE_NAMES.indexOf('loudness')]).toMatchObject({ min: -60, max: 5 });
    for (const x of d) expect(x.scale).toBeGreaterThan(0);
  });
});
