import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FEATURE_NAMES, type Features } from '../../../../model/contract/features.ts';
import { type Manifest, ManifestSchema } from '../../../../model/contract/manifest.ts';
import type { PredictionLog } from '../../../../model/contract/prediction-log.ts';
import { binIndex } from '../../../../model/contract/reference.ts';
import { mulberry32 } from '../../../../model/runtime/prng.ts';
import { DEVICE_MIN_DISTINCT, distinctInputs, driftCheck, driftFromLogs } from './drift-check.ts';

// The real reference profile of the bundled default model.
const manifest: Manifest = ManifestSchema.parse(
  JSON.parse(readFileSync(new URL('../../../../public/models/default/manifest.json', import.meta.url), 'utf8')),
);
const reference = manifest.reference;

const rng = mulberry32;

/** Songs drawn from the reference histograms themselves (each feature independently): no drift by construction. */
function likeReference(n: number, seed: number): Features[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const f = {} as Record<(typeof FEATURE_NAMES)[number], number>;
    for (const name of FEATURE_NAMES) {
      const h = reference.features.find((x) => x.name === name)!.histogram;
      const total = h.counts.reduce((a, b) => a + b, 0);
      let u = r() * total;
      let bin = 0;
      while (bin < h.counts.length - 1 && u >= h.counts[bin]!) u -= h.counts[bin++]!;
      const lo = h.edges[bin - 1] ?? (h.edges[0] ?? 0) - 1;
      const hi = h.edges[bin] ?? (h.edges.at(-1) ?? 0) + 1;
      // Strictly inside (lo, hi]: the binning rule of the contract.
      f[name] = lo + (hi - lo) * (0.05 + 0.9 * r());
    }
    return f as Features;
  });
}

const log = (inputs: Features, i: number): PredictionLog =>
  ({ id: `id-${i}`, inputs, outputs: [], modelVersion: 'v1' }) as unknown as PredictionLog;

describe('on-device drift check', () => {
  it('stays quiet for songs like the training reference', () => {
    const inputs = likeReference(400, 1);
    // Sanity: the generator really lands in the bins it drew.
    const h = reference.features[0]!.histogram;
    expect(binIndex(h.edges, inputs[0]![reference.features[0]!.name])).toBeLessThan(h.counts.length);
    const r = driftCheck(inputs, reference);
    expect(r.distinct).toBe(400);
    expect(r.enough).toBe(true);
    expect(r.warning).toBe(false);
    expect(r.features[0]!.excessPsi).toBeLessThan(0.1);
  });

  it('rarely cries wolf on small samples: PSI is corrected for what sampling alone gives', () => {
    // 200 samples of 50 songs drawn from the reference itself: uncorrected, PSI ≥ 0.25 on one of 13 features
    // happens in most of them; corrected, in few.
    let warnings = 0;
    let rawAlarms = 0;
    for (let t = 0; t < 200; t++) {
      const r = driftCheck(likeReference(DEVICE_MIN_DISTINCT, 100 + t), reference);
      if (r.warning) warnings++;
      if (r.features.some((f) => f.smoothedPsi >= 0.25)) rawAlarms++;
    }
    expect(warnings / 200).toBeLessThan(0.1);
    expect(rawAlarms / 200).toBeGreaterThan(0.5);
  });

  it('warns when a feature shifts strongly, naming it first', () => {
    const inputs = likeReference(120, 2).map((f) => ({ ...f, energy: 0.05, acousticness: 0.97 }));
    const r = driftCheck(inputs, reference);
    expect(r.warning).toBe(true);
    expect(['energy', 'acousticness']).toContain(r.features[0]!.name);
    expect(r.features[0]!.excessPsi).toBeGreaterThanOrEqual(0.25);
    const energy = r.features.find((f) => f.name === 'energy')!;
    expect(energy.mean).toBeCloseTo(0.05, 6);
    expect(energy.referenceMean).toBeGreaterThan(0.4);
  });

  it('does not warn on too few distinct songs, and counts a song predicted many times once', () => {
    const shifted = likeReference(DEVICE_MIN_DISTINCT - 1, 3).map((f) => ({ ...f, energy: 0.05 }));
    const few = driftCheck(shifted, reference);
    expect(few.enough).toBe(false);
    expect(few.warning).toBe(false);
    expect(few.features[0]!.excessPsi).toBeGreaterThan(0.25);

    const one = likeReference(1, 4)[0]!;
    const logs = Array.from({ length: 300 }, (_, i) => log({ ...one, energy: 0.05 }, i));
    expect(distinctInputs(logs)).toHaveLength(1);
    expect(driftFromLogs(logs, reference).warning).toBe(false);
    const many = shifted.concat(likeReference(10, 5).map((f) => ({ ...f, energy: 0.05 })));
    expect(driftFromLogs(many.map(log), reference).warning).toBe(true);
  });
});
