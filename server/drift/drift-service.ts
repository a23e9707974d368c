/**
 * Drift and performance reports from the store. A drift window counts each
 * song once (`window-songs.ts`), in the chosen traffic kinds (interactive by
 * default), weighted so no device dominates; raw row counts and mean
 * probabilities come from the mergeable daily buckets. Performance matches
 * outcomes to the prediction each judges (`performance.ts`).
 */
import type { ReferenceProfile, TrafficKind } from '../../model/contract/index.ts';
import type { Thresholds } from '../config.ts';
import { DomainError } from '../domain-error.ts';
import type { Registry } from '../registry/registry.ts';
import type { Store } from '../store/store.ts';
import { type DriftBucket, emptyBucket, mergeInto } from './bucket.ts';
import { type PerformancePoint, performance } from './performance.ts';
import { type Decision, type DriftReport, type DriftStatus, driftReport } from './report.ts';
import { emptyShadow, mergeShadow, type ShadowStats, type ShadowSummary, summariseShadow } from './shadow.ts';
import { type DayWindow, type Granularity, periodOf } from './window.ts';
import { loadWindowSample, loadWindowSongs, sampleOf, type WindowSong } from './window-songs.ts';

export type { DayWindow, Granularity, PerformancePoint };
export { periodOf };

export const COUNTING_RULE =
  'Each song (its catalogue id with its features, or its features alone when it has no id) counts once per window, whatever the days, devices and repeats; only the traffic kinds shown are counted (interactive by default). A device that brought more than half of the songs is weighted down to half, and p-values use the effective sample size. Raw row counts (all kinds) are shown beside.';

/** Drift defaults to interactive traffic: what marketers asked about, not batch scoring or tests. */
export const DEFAULT_KINDS: readonly TrafficKind[] = ['interactive'];

export interface PeriodSummary {
  period: string;
  rows: number;
  distinct: number;
  status: DriftStatus;
  features: {
    name: string;
    psi: number;
    ksPValueAdjusted: number;
    jsDistance: number;
    status: DriftStatus;
    decision: Decision | null;
  }[];
  outputs: {
    top1Psi: number;
    top1PsiExcess: number;
    entropyPsi: number;
    entropyPsiExcess: number;
    status: DriftStatus;
    maxMeanShift: { country: string; delta: number };
  };
}

export class DriftService {
  readonly #store: Store;
  readonly #registry: Registry;
  readonly #thresholds: () => Thresholds;
  constructor(store: Store, registry: Registry, thresholds: () => Thresholds) {
    this.#store = store;
    this.#registry = registry;
    this.#thresholds = thresholds;
  }

  async #ref(version: string): Promise<ReferenceProfile> {
    const ref = await this.#registry.reference(version);
    if (!ref) throw new DomainError('unknown-model-version', { version }, { missing: true });
    return ref;
  }

  async #buckets(version: string, w: DayWindow): Promise<{ day: string; b: DriftBucket }[]> {
    const rows = await this.#store.db
      .selectFrom('drift_buckets')
      .select(['day', 'stats'])
      .where('model_version', '=', version)
      .where('day', '>=', w.from)
      .where('day', '<=', w.to)
      .orderBy('day')
      .execute();
    return rows.map((r) => ({ day: r.day, b: JSON.parse(r.stats) as DriftBucket }));
  }

  async report(
    version: string,
    w: DayWindow,
    kinds: readonly TrafficKind[] = DEFAULT_KINDS,
  ): Promise<DriftReport & { version: string; window: DayWindow; days: number; kinds: readonly TrafficKind[] }> {
    const ref = await this.#ref(version);
    const days = await this.#buckets(version, w);
    const raw = days.reduce((acc, d) => mergeInto(acc, d.b), emptyBucket(ref));
    const t = this.#thresholds();
    const sample = await loadWindowSample(this.#store, ref, version, w, kinds, t.maxDeviceShare);
    return {
      version,
      window: w,
      days: days.length,
      kinds,
      ...driftReport(ref, sample, raw, t),
    };
  }

  /** One point per day or ISO week: each song once per period. */
  async timeseries(
    version: string,
    w: DayWindow,
    g: Granularity,
    kinds: readonly TrafficKind[] = DEFAULT_KINDS,
  ): Promise<PeriodSummary[]> {
    const ref = await this.#ref(version);
    const t = this.#thresholds();
    const rawPeriods = new Map<string, DriftBucket>();
    for (const d of await this.#buckets(version, w)) {
      const p = periodOf(d.day, g);
      rawPeriods.set(p, mergeInto(rawPeriods.get(p) ?? emptyBucket(ref), d.b));
    }
    const songPeriods = new Map<string, WindowSong[]>();
    for (const s of await loadWindowSongs(this.#store, version, w, kinds)) {
      for (const p of new Set(s.days.map((d) => periodOf(d, g)))) {
        const list = songPeriods.get(p) ?? [];
        list.push(s);
        songPeriods.set(p, list);
      }
    }
    const periods = [...new Set([...rawPeriods.keys(), ...songPeriods.keys()])].sort();
    return periods.map((period) => {
      const r = driftReport(
        ref,
        sampleOf(ref, songPeriods.get(period) ?? [], t.maxDeviceShare),
        rawPeriods.get(period) ?? emptyBucket(ref),
        t,
      );
      return {
        period,
        rows: r.rows,
        distinct: r.distinct,
        status: r.status,
        features: r.features.map((f) => ({
          name: f.name,
          psi: f.psi,
          ksPValueAdjusted: f.ksPValueAdjusted,
          jsDistance: f.jsDistance,
          status: f.status,
          decision: f.decision,
        })),
        outputs: {
          top1Psi: r.outputs.top1Psi,
          top1PsiExcess: r.outputs.top1Psi - r.outputs.top1Null.median,
          entropyPsi: r.outputs.entropyPsi,
          entropyPsiExcess: r.outputs.entropyPsi - r.outputs.entropyNull.median,
          status: r.outputs.status,
          maxMeanShift: r.outputs.maxMeanShift,
        },
      };
    });
  }

  /** Shadow comparison for an active version: per shadow version, the window's summary and one point per day. */
  async shadow(
    version: string,
    w: DayWindow,
  ): Promise<{ shadow: string; summary: ShadowSummary; days: ({ day: string } & ShadowSummary)[] }[]> {
    const rows = await this.#store.db
      .selectFrom('shadow_buckets')
      .select(['shadow_version', 'day', 'stats'])
      .where('model_version', '=', version)
      .where('day', '>=', w.from)
      .where('day', '<=', w.to)
      .orderBy('day')
      .execute();
    const by = new Map<string, { total: ShadowStats; days: ({ day: string } & ShadowSummary)[] }>();
    for (const r of rows) {
      const s = JSON.parse(r.stats) as ShadowStats;
      const e = by.get(r.shadow_version) ?? { total: emptyShadow(), days: [] };
      mergeShadow(e.total, s);
      e.days.push({ day: r.day, ...summariseShadow(s) });
      by.set(r.shadow_version, e);
    }
    return [...by].map(([shadow, e]) => ({ shadow, summary: summariseShadow(e.total), days: e.days }));
  }

  /** Concept drift per period (or one point for the whole window with `g` = null). */
  async performance(
    version: string,
    w: DayWindow,
    g: Granularity | null,
    kinds: readonly TrafficKind[] = DEFAULT_KINDS,
    /** Leave out the songs the model trained on (the alert's population: like the manifest's test split). */
    heldOutOnly = false,
  ): Promise<PerformancePoint[]> {
    await this.#ref(version);
    const t = this.#thresholds();
    const trained = heldOutOnly ? (await this.#registry.get(version))?.manifest.lineage.trainingSongs : undefined;
    return performance(this.#store, version, w, g, {
      kinds,
      horizonDays: t.matchHorizonDays,
      minSongs: t.minOutcomeSongs,
      ...(trained ? { excludeSongKeys: new Set(trained) } : {}),
    });
  }
}
