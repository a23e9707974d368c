/**
 * The counterfactual search space per feature: the contract's valid range,
 * narrowed to what real songs use (the reference histogram's outer edges are
 * a good proxy), distance in reference standard deviations, and which
 * features a marketer cannot change (explicit lyrics).
 */
import { FEATURE_SPECS } from '../../../../model/contract/features.ts';
import type { Manifest } from '../../../../model/contract/manifest.ts';
import type { FeatureDomain } from './counterfactual.ts';

export function counterfactualDomains(manifest: Manifest | null): FeatureDomain[] {
  return FEATURE_SPECS.map((spec) => {
    const ref = manifest?.reference.features.find((f) => f.name === spec.name);
    const std = ref && ref.std > 0 ? ref.std : (spec.max - spec.min) / 4;
    return {
      min: spec.min,
      max: spec.max,
      kind: spec.kind,
      scale: std,
      mutable: spec.name !== 'is_explicit',
    };
  });
}
