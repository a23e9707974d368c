/**
 * The counterfactual search space per feature: what real charting songs look like — the manifest's
 * `featureBounds` (1st–99th percentile of the training songs) where the model has them, else the contract's
 * valid range narrowed to reference mean ± 3 std (so no "+5 dB" loudness suggestions); distance in reference
 * standard deviations; and which features a marketer cannot change (explicit lyrics).
 */
import { FEATURE_SPECS } from '../../../../model/contract/features.ts';
import type { Manifest } from '../../../../model/contract/manifest.ts';
import type { FeatureDomain } from './counterfactual.ts';

export function counterfactualDomains(manifest: Manifest | null): FeatureDomain[] {
  return FEATURE_SPECS.map((spec) => {
    const ref = manifest?.reference.features.find((f) => f.name === spec.name);
    const std = ref && ref.std > 0 ? ref.std : (spec.max - spec.min) / 4;
    const bounds =
      manifest?.featureBounds?.byFeature[spec.name as keyof NonNullable<Manifest['featureBounds']>['byFeature']];
    const whole = spec.kind !== 'number';
    if (bounds && bounds.high > bounds.low) {
      // Whole-number features move on whole numbers inside the bounds.
      const low = whole ? Math.ceil(bounds.low) : bounds.low;
      const high = whole ? Math.floor(bounds.high) : bounds.high;
      return {
        min: Math.max(spec.min, low),
        max: Math.min(spec.max, high),
        kind: spec.kind,
        scale: std,
        mutable: spec.name !== 'is_explicit',
      };
    }
    const realistic = !whole && ref && ref.std > 0;
    return {
      min: realistic ? Math.max(spec.min, ref.mean - 3 * ref.std) : spec.min,
      max: realistic ? Math.min(spec.max, ref.mean + 3 * ref.std) : spec.max,
      kind: spec.kind,
      scale: std,
      mutable: spec.name !== 'is_explicit',
    };
  });
}
