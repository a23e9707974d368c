import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { requireSharedDataFile } from '../shared-data.ts';
import { isSongId, parseSongsCsv } from './catalogue-csv.ts';

const HEADER =
  'spotify_id,name,artists,is_explicit,duration_ms,danceability,energy,key,loudness,mode,speechiness,acousticness,instrumentalness,liveness,valence,tempo';
const ROW = (id: string, name: string, dance = '0.5') =>
  `${id},"${name}","A, B",TRUE,200000,${dance},0.6,5,-6.1,1,0.05,0.2,0,0.1,0.4,120`;

describe('parseSongsCsv', () => {
  it('reads songs with quoted fields and reports bad rows with their line and field codes', () => {
    const csv = [
      HEADER,
      ROW('s1', 'One, "quoted"'.replaceAll('"', '""')),
      ROW('s2', 'Two', '1.5'),
      ROW('s3', 'Three', ''),
    ].join('\n');
    const r = parseSongsCsv(csv);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.songs).toHaveLength(1);
    expect(r.value.songs[0]).toMatchObject({ id: 's1', name: 'One, "quoted"', artists: 'A, B' });
    expect(r.value.songs[0]!.features.is_explicit).toBe(1);
    expect(r.value.bad.map((b) => [b.line, b.errors[0]!.field, b.errors[0]!.code])).toEqual([
      [3, 'danceability', 'feature-out-of-range'],
      [4, 'danceability', 'feature-missing'],
    ]);
    expect(r.value.total).toBe(3);
  });

  it('reads an upload with the form parser: decimal commas, Unicode minus, durations in other units counted', () => {
    const csv = [
      HEADER,
      's1,One,A,TRUE,3:30,"0,62",0.6,5,−6.1,1,0.05,0.2,0,0.1,0.4,120',
      's2,Two,A,TRUE,3.5,0.5,0.6,5,-6,1,0.05,0.2,0,0.1,0.4,120',
      's3,Three,A,TRUE,200000,0.5,0.6,5,-6,1,0.05,0.2,0,0.1,0.4,120',
    ].join('\n');
    const r = parseSongsCsv(csv, { durations: 'flexible' });
    expect(
      r.ok && r.value.songs.map((s) => [s.features.duration_ms, s.features.danceability, s.features.loudness]),
    ).toEqual([
      [210_000, 0.62, -6.1],
      [210_000, 0.5, -6],
      [200_000, 0.5, -6],
    ]);
    expect(r.ok && r.value.durationReadings).toEqual({ 'm:ss': 1, minutes: 1 });
    // The catalogue itself is in milliseconds: 3.5 there is a bad row, not 3 min 30 s.
    const strict = parseSongsCsv(csv);
    expect(strict.ok && strict.value.bad.map((b) => b.line)).toEqual([2, 3]);
  });

  it('fails the whole file only when it is unusable', () => {
    expect(parseSongsCsv('')).toMatchObject({ ok: false, code: 'file-empty' });
    expect(parseSongsCsv('name,artists\nx,y')).toMatchObject({ ok: false, code: 'csv-missing-column' });
    expect(parseSongsCsv([HEADER, ROW('s1', 'x', '9')].join('\n'))).toMatchObject({
      ok: false,
      code: 'no-usable-rows',
    });
  });

  it('parses the real catalogue: 14,245 rows, the 6 placeholder rows (name \\N, duration 0) reported', () => {
    const r = parseSongsCsv(readFileSync(requireSharedDataFile('song-catalog.csv'), 'utf8'));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.total).toBe(14_245);
    expect(r.value.bad.map((b) => `${b.errors[0]!.field}:${b.errors[0]!.code}`)).toEqual(
      Array(6).fill('duration_ms:feature-out-of-range'),
    );
    expect(new Set(r.value.songs.map((s) => s.id)).size).toBe(r.value.songs.length);
    expect(r.value.songs.length).toBe(14_245 - 6);
  });
});

describe('parseSongsCsv with required ids (the server catalogue)', () => {
  it('needs an id column and reports rows without a usable id instead of naming them', () => {
    const noId = HEADER.replace('spotify_id,', '');
    expect(parseSongsCsv([noId, ROW('s1', 'x').replace('s1,', '')].join('\n'), { ids: 'required' })).toMatchObject({
      ok: false,
      code: 'csv-missing-column',
      details: { missing: ['spotify_id'] },
    });
    const csv = [HEADER, ROW('s1', 'One'), ROW('', 'No id'), ROW('x'.repeat(65), 'Long id')].join('\n');
    const r = parseSongsCsv(csv, { ids: 'required' });
    expect(r.ok && r.value.songs.map((s) => s.id)).toEqual(['s1']);
    expect(r.ok && r.value.bad.map((b) => [b.line, b.badId])).toEqual([
      [3, ''],
      [4, 'x'.repeat(65)],
    ]);
    // A marketer's file instead names such rows by their line.
    const loose = parseSongsCsv(csv);
    expect(loose.ok && loose.value.songs.map((s) => s.id)).toEqual(['s1', 'row-3', 'row-4']);
  });

  it('takes the id rule of a prediction log’s songId', () => {
    expect(isSongId('59NraMJsLaMCVtwXTSia8i')).toBe(true);
    expect(isSongId('')).toBe(false);
    expect(isSongId('a'.repeat(65))).toBe(false);
    expect(isSongId('bad\u0000id')).toBe(false);
  });
});
