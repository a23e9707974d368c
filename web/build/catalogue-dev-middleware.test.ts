import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ENDPOINTS } from '../../model/contract/endpoints.ts';
import { catalogueDevMiddleware } from './catalogue-dev-middleware.ts';

const HEADER =
  'spotify_id,name,artists,is_explicit,duration_ms,danceability,energy,key,loudness,mode,speechiness,acousticness,instrumentalness,liveness,valence,tempo,time_signature';

function request(url: string) {
  const sent: { body?: string } = {};
  const res = { setHeader: () => res, end: (b: string) => (sent.body = b) } as unknown as ServerResponse;
  return { req: { url } as IncomingMessage, res, sent };
}

describe('catalogueDevMiddleware', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('asks for the CSV only when the catalogue is requested, so the dev server starts without the data', () => {
    let asked = 0;
    const middleware = catalogueDevMiddleware(() => {
      asked++;
      throw new Error('song-catalog.csv not found at /nowhere/song-catalog.csv');
    });
    let passedOn = 0;
    const other = request('/index.html');
    middleware(other.req, other.res, () => passedOn++);
    expect([asked, passedOn]).toEqual([0, 1]);
    const catalogue = request(ENDPOINTS.catalogue.path);
    expect(() => middleware(catalogue.req, catalogue.res, () => passedOn++)).toThrow(
      'song-catalog.csv not found at /nowhere/song-catalog.csv',
    );
    expect([asked, passedOn]).toEqual([1, 1]);
  });

  it('answers the catalogue built from the CSV', () => {
    dir = mkdtempSync(join(tmpdir(), 'dev-catalogue-'));
    const csv = join(dir, 'song-catalog.csv');
    writeFileSync(
      csv,
      `${HEADER}\n59NraMJsLaMCVtwXTSia8i,Prada,RAYE,true,132359,0.638,0.717,8,-5.804,1,0.0375,0.001,0.00000179,0.113,0.422,141.904,4\n`,
    );
    const { req, res, sent } = request(ENDPOINTS.catalogue.path);
    catalogueDevMiddleware(() => csv)(req, res, () => {});
    const body = JSON.parse(sent.body ?? 'null') as { version: string; songs: { id: string }[] };
    expect(body.version).toMatch(/^[0-9a-f]{12}$/);
    expect(body.songs.map((s) => s.id)).toEqual(['59NraMJsLaMCVtwXTSia8i']);
  });
});
