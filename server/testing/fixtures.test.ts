import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// The catalogue's location comes from JUKEBOX_DATA_DIR when model/shared-data.ts loads: set it, then import afresh.
async function fixturesWithDataIn(dir: string) {
  vi.stubEnv('JUKEBOX_DATA_DIR', dir);
  vi.resetModules();
  return import('./fixtures.ts');
}

const HEADER =
  'spotify_id,name,artists,is_explicit,duration_ms,danceability,energy,key,loudness,mode,speechiness,acousticness,instrumentalness,liveness,valence,tempo,time_signature';

describe('catalogueSongs', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fixtures-data-'));
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails with the shared-data message (file, path, JUKEBOX_DATA_DIR), not a bare ENOENT, without the catalogue', async () => {
    const { catalogueSongs } = await fixturesWithDataIn(dir);
    expect(() => catalogueSongs()).toThrow(
      `song-catalog.csv not found at ${join(dir, 'song-catalog.csv')}. Keep the data folder at ../shared/data beside this checkout, or set JUKEBOX_DATA_DIR to the folder that holds it.`,
    );
  });

  it('reads the catalogue from the folder JUKEBOX_DATA_DIR names', async () => {
    writeFileSync(
      join(dir, 'song-catalog.csv'),
      `${HEADER}\n59NraMJsLaMCVtwXTSia8i,Prada,"cassö, RAYE",true,132359,0.638,0.717,8,-5.804,1,0.0375,0.001,0.00000179,0.113,0.422,141.904,4\n`,
    );
    const { catalogueSongs } = await fixturesWithDataIn(dir);
    const songs = catalogueSongs();
    expect(songs.map((s) => [s.id, s.name, s.features.tempo])).toEqual([['59NraMJsLaMCVtwXTSia8i', 'Prada', 141.904]]);
  });
});
