/**
 * Precomputes the world map's SVG paths at build time (virtual module
 * `virtual:world-paths`), so the app ships path strings instead of
 * world-atlas + topojson + d3-geo.
 */
import { createRequire } from 'node:module';
import { geoNaturalEarth1, geoPath } from 'd3-geo';
import type { FeatureCollection, Geometry } from 'geojson';
import { feature } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import type { Plugin } from 'vite';
import { COUNTRY_CODES } from '../../model/contract/countries.ts';
import { ISO_NUMERIC, SMALL_COUNTRY_POINTS } from '../src/lib/map/iso-numeric.ts';

const ID = 'virtual:world-paths';
const RESOLVED = `\0${ID}`;
const WIDTH = 960;
const HEIGHT = 470;

export interface WorldPaths {
  width: number;
  height: number;
  /** Every other country, one path, drawn as the neutral background. */
  rest: string;
  countries: Record<string, { d: string; x: number; y: number; marker: boolean }>;
}

export function computeWorldPaths(): WorldPaths {
  const require = createRequire(import.meta.url);
  const topo = require('world-atlas/countries-110m.json') as Topology<{ countries: GeometryCollection }>;
  const fc = feature(topo, topo.objects.countries) as FeatureCollection<Geometry, { name: string }>;
  // Antarctica takes a fifth of the height and no one charts there.
  fc.features = fc.features.filter((f) => f.id !== '010');
  const projection = geoNaturalEarth1().fitSize([WIDTH, HEIGHT], fc);
  const path = geoPath(projection).digits(1);
  const byId = new Map(fc.features.map((f) => [String(f.id), f]));
  const ours = new Set(Object.values(ISO_NUMERIC));
  const rest = fc.features
    .filter((f) => !ours.has(String(f.id)))
    .map((f) => path(f) ?? '')
    .join('');
  const countries: WorldPaths['countries'] = {};
  for (const code of COUNTRY_CODES) {
    const f = byId.get(ISO_NUMERIC[code]);
    const point = SMALL_COUNTRY_POINTS[code];
    if (point) {
      const [x, y] = projection([point[0], point[1]]) ?? [0, 0];
      countries[code] = { d: f ? (path(f) ?? '') : '', x: Math.round(x), y: Math.round(y), marker: true };
    } else if (f) {
      const [x, y] = path.centroid(f);
      countries[code] = { d: path(f) ?? '', x: Math.round(x), y: Math.round(y), marker: false };
    }
  }
  return { width: WIDTH, height: HEIGHT, rest, countries };
}

export function worldPathsPlugin(): Plugin {
  return {
    name: 'jukebox-world-paths',
    resolveId: (id) => (id === ID ? RESOLVED : undefined),
    load(id) {
      if (id !== RESOLVED) return undefined;
      return `export default ${JSON.stringify(computeWorldPaths())};`;
    },
  };
}
