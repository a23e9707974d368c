/**
 * Drift and performance reports from the store. Drift merges the daily
 * (version, UTC day) buckets of the window, so its cost depends on the number
 * of days, not of logs. Counting rule: an input (feature fingerprint) counts
 * once per (version, UTC day); a multi-day window therefore counts a song once
 * for each day it was predicted on, and raw row counts are reported beside.
 */
import { countryIndex, type ReferenceProfile } from '../../model/contract/index.ts';
import { rocAuc } from '../../model/drift/stats.ts';
import type { Thresholds } from '../config.ts';
import { ApiError } from '../http/errors.ts';
import type { Registry } from '../registry/registry.ts';
import type { Store } from '../store/store.ts';
import { decodeVector } from '../store/vectors.ts';
import { type DriftBucket, emptyBucket, mergeInto } from './bucket.ts';
import { type DriftReport, type DriftStatus, driftReport } from './report.ts';
import { emptyShadow, mergeShadow, type ShadowStats, type ShadowSummary, summariseShadow } from './shadow.ts';

export const COUNTING_RULE =
  'An input (feature fingerprint) counts once per (model version, UTC day of the device clock); a multi-day window counts it once per day it was predicted on. Raw row counts are shown beside.';

export type Granularity = 'day' | 'week';

export interface Window {
  from: string;
  to: string;
}

/** Start of the period a day belongs to: the day itself, or the Monday of its ISO week. */
export function periodOf(day: string, g: Granularity): string {
  if (g === 'day') return day;
  const d = new Date(`${day}T00:00:00Z`);
  const dow = (d.getUTCDay() + 6) % 7;
  d.setUTCDate(d.getUTCDate() - dow);
  return d.toISOString().slice(0, 10);
}

export interface PeriodSummary {
  period: string;
  rows: number;
  distinct: number;
  status: DriftStatus;
  features: { name: string; psi: number; ksPValueAdjusted: number; jsDistance: number; status: DriftStatus }[];
  outputs: {
    top1Psi: number;
    entropyPsi: number;
    status: DriftStatus;
    maxMeanShift: { country: string; delta: number };
  };
}

export interface PerformancePoint {
  period: string;
  outcomes: number;
  matched: number;
  auc: number | null;
  top5Hit: number | null;
  songs: number;
}

export class DriftService {
  constructor(
    private readonly store: Store,
    private readonly registry: Registry,
    private readonly thresholds: () => Thresholds,
  ) {}

  private async ref(version: string): Promise<ReferenceProfile> {
    const ref = await this.registry.reference(version);
    if (!ref) throw new ApiError('unknown-model-version', { version }, { status: 404 });
    return ref;
  }

  private async buckets(version: string, w: Window): Promise<{ day: string; b: DriftBucket }[]> {
    const rows = await this.store.db
      .selectFrom('drift_buckets')
      .select(['day', 'stats'])
      .where('model_version', '=', version)
      .where('day', '>=', w.from)
      .where('day', '<=', w.to)
      .orderBy('day')
      .execute();
    return rows.map((r) => ({ day: r.day, b: JSON.parse(r.stats) as DriftBucket }));
  }

  async report(version: string, w: Window): Promise<DriftReport & { version: string; window: Window; days: number }> {
    const ref = await this.ref(version);
    const days = await this.buckets(version, w);
    const merged = days.reduce((acc, d) => mergeInto(acc, d.b), emptyBucket(ref));
    return { version, window: w, days: days.length, ...driftReport(ref, merged, this.thresholds()) };
  }

  async timeseries(version: string, w: Window, g: Granularity): Promise<PeriodSummary[]> {
    const ref = await this.ref(version);
    const periods = new Map<string, DriftBucket>();
    for (const d of await this.buckets(version, w)) {
      const p = periodOf(d.day, g);
      periods.set(p, mergeInto(periods.get(p) ?? emptyBucket(ref), d.b));
    }
    const t = this.thresholds();
    return [...periods].map(([period, b]) => {
      const r = driftReport(ref, b, t);
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
        })),
        outputs: {
          top1Psi: r.outputs.top1Psi,
          entropyPsi: r.outputs.entropyPsi,
          status: r.outputs.status,
          maxMeanShift: r.outputs.maxMeanShift,
        },
      };
    });
  }

  /** Shadow comparison for an active version: per shadow version, the window's summary and one point per day. */
  async shadow(
    version: string,
    w: Window,
  ): Promise<{ shadow: string; summary: ShadowSummary; days: ({ day: string } & ShadowSummary)[] }[]> {
    const rows = await this.store.db
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

  /**
   * Concept drift: outcomes in the window (by chart date) matched with the
   * version's prediction for that song (by song id, else by fingerprint).
   * ROC-AUC over every matched (song, country) pair; top-5 hit over songs
   * with at least one charted country: did any of them rank in the top 5.
   */
  async performance(version: string, w: Window, g: Granularity): Promise<PerformancePoint[]> {
    await this.ref(version);
    const outcomes = await this.store.db
      .selectFrom('outcomes')
      .select(['song_id', 'fingerprint', 'country', 'charted', 'date'])
      .where('date', '>=', w.from)
      .where('date', '<=', w.to)
      .execute();
    if (outcomes.length === 0) return [];
    const songIds = [...new Set(outcomes.flatMap((o) => (o.song_id ? [o.song_id] : [])))];
    const fps = [...new Set(outcomes.flatMap((o) => (o.fingerprint ? [o.fingerprint] : [])))];
    const bySong = new Map<string, number[]>();
    const byFp = new Map<string, number[]>();
    for (let i = 0; i < songIds.length; i += 500) {
      const rows = await this.store.db
        .selectFrom('song_predictions')
        .select(['song_id', 'outputs'])
        .where('model_version', '=', version)
        .where('song_id', 'in', songIds.slice(i, i + 500))
        .execute();
      for (const r of rows) if (r.song_id) bySong.set(r.song_id, decodeVector(r.outputs));
    }
    for (let i = 0; i < fps.length; i += 500) {
      const rows = await this.store.db
        .selectFrom('song_predictions')
        .select(['fingerprint', 'outputs'])
        .where('model_version', '=', version)
        .where('fingerprint', 'in', fps.slice(i, i + 500))
        .execute();
      for (const r of rows) byFp.set(r.fingerprint, decodeVector(r.outputs));
    }
    interface Acc {
      outcomes: number;
      scores: number[];
      labels: boolean[];
      songs: Map<string, { outputs: number[]; charted: number[] }>;
    }
    const acc = new Map<string, Acc>();
    for (const o of outcomes) {
      const period = periodOf(o.date, g);
      let a = acc.get(period);
      if (!a) {
        a = { outcomes: 0, scores: [], labels: [], songs: new Map() };
        acc.set(period, a);
      }
      a.outcomes++;
      const outputs =
        (o.song_id ? bySong.get(o.song_id) : undefined) ?? (o.fingerprint ? byFp.get(o.fingerprint) : undefined);
      const c = countryIndex(o.country);
      if (!outputs || c < 0) continue;
      a.scores.push(outputs[c] as number);
      a.labels.push(o.charted === 1);
      const key = o.song_id ?? o.fingerprint ?? '';
      const s = a.songs.get(key) ?? { outputs, charted: [] };
      if (o.charted === 1) s.charted.push(c);
      a.songs.set(key, s);
    }
    return [...acc]
      .sort((x, y) => (x[0] < y[0] ? -1 : 1))
      .map(([period, a]) => {
        let hits = 0;
        let songs = 0;
        for (const s of a.songs.values()) {
          if (s.charted.length === 0) continue;
          songs++;
          const top5 = s.outputs
            .map((p, i) => [p, i] as const)
            .sort((x, y) => y[0] - x[0])
            .slice(0, 5)
            .map((x) => x[1]);
          if (s.charted.some((c) => top5.includes(c))) hits++;
        }
        return {
          period,
          outcomes: a.outcomes,
          matched: a.scores.length,
          auc: rocAuc(a.scores, a.labels),
          top5Hit: songs > 0 ? hits / songs : null,
          songs,
        };
      });
  }
}
