/**
 * The counterfactual search space per feature: the contract's valid range
 * narrowed to what real songs use (reference mean ± 3 std, so no "+5 dB"
 * loudness suggestions), distance in reference standard deviations, and
 * which features a marketer cannot change (explicit lyrics).
 */
import { FEATURE_SPECS } from '../../../../model/contract/features.ts';
import type { Manifest } from '../../../../model/contract/manifest.ts';
import type { FeatureDomain } from './counterfactual.ts';

export function counterfactualDomains(manifest: Manifest | null): FeatureDomain[] {
  return FEATURE_SPECS.map((spec) => {
    const ref = manifest?.reference.features.find((f) => f.name === spec.name);
    const std = ref && ref.std > 0 ? ref.std : (spec.max - spec.min) / 4;
    const realistic = spec.kind === 'number' && ref && ref.std > 0;
    return {
      min: realistic ? Math.max(spec.min, ref.mean - 3 * ref.std) : spec.min,
      max: realistic ? Math.min(spec.max, ref.mean + 3 * ref.std) : spec.max,
      kind: spec.kind,
      scale: std,
      mutable: spec.name !== 'is_explicit',
    };
  });
}
