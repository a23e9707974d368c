/**
 * The e2e server without a browser: it reads the shared catalogue when it starts, so a missing data folder
 * stops every e2e file with the shared-data message rather than a bare ENOENT.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ENDPOINTS } from '../../model/contract/endpoints.ts';

// DIST and the shared data folder are read from the environment when the modules load: set both, then import afresh.
async function serverWith(dist: string, data: string) {
  vi.stubEnv('JUKEBOX_WEB_DIST', dist);
  vi.stubEnv('JUKEBOX_DATA_DIR', data);
  vi.resetModules();
  return import('./static-server.ts');
}

const HEADER =
  'spotify_id,name,artists,is_explicit,duration_ms,danceability,energy,key,loudness,mode,speechiness,acousticness,instrumentalness,liveness,valence,tempo,time_signature';

describe('startTestServer', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'static-server-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>app</title>');
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to start without the catalogue, naming the file, the path and JUKEBOX_DATA_DIR', async () => {
    const data = join(dir, 'no-data');
    const { startTestServer } = await serverWith(dir, data);
    await expect(startTestServer()).rejects.toThrow(
      `song-catalog.csv not found at ${join(data, 'song-catalog.csv')}. Keep the data folder at ../shared/data beside this checkout, or set JUKEBOX_DATA_DIR to the folder that holds it.`,
    );
  });

  it('serves the catalogue from the folder JUKEBOX_DATA_DIR names', async () => {
    writeFileSync(
      join(dir, 'song-catalog.csv'),
      `${HEADER}\n59NraMJsLaMCVtwXTSia8i,Prada,RAYE,true,132359,0.638,0.717,8,-5.804,1,0.0375,0.001,0.00000179,0.113,0.422,141.904,4\n`,
    );
    const { startTestServer } = await serverWith(dir, dir);
    const server = await startTestServer();
    try {
      const res = await fetch(`${server.url}${ENDPOINTS.catalogue.path}`);
      const body = (await res.json()) as { songs: { id: string }[] };
      expect(body.songs.map((s) => s.id)).toEqual(['59NraMJsLaMCVtwXTSia8i']);
      expect(server.catalogueHits()).toBe(1);
    } finally {
      await server.close();
    }
  });
});
