import { describe, expect, it } from 'vitest';
import type { Song } from './targets.ts';
import { MIN_TIME_TEST_SONGS, splitByTime } from './time-order.ts';

const song = (id: string): Song => ({ id, x: new Array(13).fill(0), y: [0] });

describe('time-ordered split', () => {
  it('tests on the latest dated songs and trains on the undated and the earlier ones', () => {
    const songs = Array.from({ length: 150 }, (_, i) => song(`s${String(i).padStart(3, '0')}`));
    // 100 dated songs, in reverse id order (dates, not ids or input order, decide); 50 undated (chart files).
    const dates: Record<string, string> = {};
    for (let i = 0; i < 100; i++)
      dates[`s${String(i).padStart(3, '0')}`] = `2027-0${1 + Math.floor((99 - i) / 20)}-1${i % 10}`;
    const t = splitByTime(songs, dates, 0.2);
    expect(t).not.toBeNull();
    if (!t) return;
    expect(t.test).toHaveLength(20);
    expect(t.train).toHaveLength(130);
    const latestTrain = Math.max(...t.train.filter((s) => dates[s.id]).map((s) => Date.parse(dates[s.id] as string)));
    for (const s of t.test) expect(Date.parse(dates[s.id] as string)).toBeGreaterThanOrEqual(latestTrain);
    expect(t.train.some((s) => !dates[s.id])).toBe(true);
    expect(t.from <= t.to).toBe(true);
    expect(t.trainUntil !== null && t.trainUntil <= t.from).toBe(true);
  });

  it('gives no report with too few dated songs', () => {
    const songs = Array.from({ length: 200 }, (_, i) => song(`s${i}`));
    const dates = Object.fromEntries(
      songs.slice(0, 5 * MIN_TIME_TEST_SONGS - 10).map((s, i) => [s.id, `2027-01-${10 + (i % 20)}`]),
    );
    expect(splitByTime(songs, dates, 0.2)).toBeNull();
  });
});
