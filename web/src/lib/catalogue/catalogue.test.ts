import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSongsCsv } from '../../../../model/catalogue/catalogue-csv.ts';
import { requireSharedDataFile } from '../../../../model/shared-data.ts';
import { PRESETS } from './presets.ts';
import { buildSongIndex, fold } from './song-index.ts';

describe('song index', () => {
  const index = buildSongIndex([
    { id: '1', name: 'Prada', artists: 'cassö, RAYE, D-Block Europe', features: PRESETS[0]!.features },
    { id: '2', name: 'Blinding Lights', artists: 'The Weeknd', features: PRESETS[1]!.features },
    { id: '3', name: 'Lights Up', artists: 'Harry Styles', features: PRESETS[1]!.features },
    { id: '4', name: 'Save Your Tears', artists: 'The Weeknd', features: PRESETS[1]!.features },
  ]);

  it('finds by name or artist, accents folded, every word must match', () => {
    expect(index.search('casso').map((s) => s.id)).toEqual(['1']);
    expect(
      index
        .search('weeknd')
        .map((s) => s.id)
        .sort(),
    ).toEqual(['2', '4']);
    expect(index.search('weeknd tears').map((s) => s.id)).toEqual(['4']);
    expect(index.search('   ')).toEqual([]);
    expect(index.search('zzz')).toEqual([]);
  });

  it('ranks a name prefix above a word inside the name', () => {
    expect(index.search('lights').map((s) => s.id)).toEqual(['3', '2']);
  });

  it('on the real catalogue: exact titles first, the main artist before a featured one, typos forgiven', () => {
    const r = parseSongsCsv(readFileSync(requireSharedDataFile('song-catalog.csv'), 'utf8'));
    if (!r.ok) throw new Error(r.message);
    const real = buildSongIndex(r.value.songs);
    const miley = real.search('Miley', 10);
    expect(miley[0]!.artists.startsWith('Miley Cyrus')).toBe(true);
    const doctor = miley.findIndex((s) => s.name.startsWith('Doctor (Work It Out)'));
    const flowers = miley.findIndex((s) => s.name === 'Flowers');
    expect(flowers).toBeGreaterThanOrEqual(0);
    if (doctor >= 0) expect(flowers).toBeLessThan(doctor);
    expect(real.search('flowrs', 5).some((s) => s.name === 'Flowers' && s.artists === 'Miley Cyrus')).toBe(true);
    // Two songs called "Halo": both come first, told apart by their artists.
    const halo = real.search('halo', 5);
    expect(halo[0]!.name).toBe('Halo');
    expect(halo.filter((s) => s.name === 'Halo').map((s) => s.artists).length).toBeGreaterThanOrEqual(1);
  });

  it('folds text', () => {
    expect(fold('Cassö — RAYE!')).toBe(' casso raye ');
  });
});
