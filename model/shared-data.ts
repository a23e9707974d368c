/**
 * Where the real data lives (see ../shared/data/README.md): `JUKEBOX_DATA_DIR`, else `../shared/data` beside
 * this checkout. It is read by path and never copied into the repository. Node only.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '..');

export const SHARED_DATA_DIR = resolve(process.env.JUKEBOX_DATA_DIR ?? join(REPO, '../shared/data'));

/** The path of a file of the shared data (whether or not it exists). */
export function sharedDataFile(name: 'charts-2023.csv' | 'song-catalog.csv'): string {
  return join(SHARED_DATA_DIR, name);
}

/** The path of a shared data file that must exist; otherwise an error that says where it was looked for. */
export function requireSharedDataFile(name: 'charts-2023.csv' | 'song-catalog.csv'): string {
  const path = sharedDataFile(name);
  if (!existsSync(path)) {
    throw new Error(
      `${name} not found at ${path}. Keep the data folder at ../shared/data beside this checkout, or set JUKEBOX_DATA_DIR to the folder that holds it.`,
    );
  }
  return path;
}
