/**
 * Where the real data lives (see ../shared/data/README.md): `JUKEBOX_DATA_DIR`, else `../shared/data` beside
 * this checkout. It is read by path and never copied into the repository. Every reader goes through
 * `requireSharedDataFile` (or `readSharedDataFile`), so a missing file always says which file, where it was
 * looked for and how to fix it — never a bare ENOENT. Node only.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '..');

export const SHARED_DATA_DIR = resolve(process.env.JUKEBOX_DATA_DIR ?? join(REPO, '../shared/data'));

/** The files of the shared data folder. */
export const SHARED_DATA_FILES = ['charts-2023.csv', 'song-catalog.csv'] as const;
export type SharedDataName = (typeof SHARED_DATA_FILES)[number];

/** How to make the shared data visible; ends every message about a missing file. */
export const SHARED_DATA_HINT =
  'Keep the data folder at ../shared/data beside this checkout, or set JUKEBOX_DATA_DIR to the folder that holds it.';

/** The path of a file of the shared data (whether or not it exists). */
export function sharedDataFile(name: SharedDataName): string {
  return join(SHARED_DATA_DIR, name);
}

/**
 * The path of a shared data file that must exist; otherwise an error that says where it was looked for.
 *
 * @example
 *   const csv = readFileSync(requireSharedDataFile('charts-2023.csv'), 'utf8');
 */
export function requireSharedDataFile(name: SharedDataName): string {
  const path = sharedDataFile(name);
  if (!existsSync(path)) throw new Error(`${name} not found at ${path}. ${SHARED_DATA_HINT}`);
  return path;
}

/** The text of a shared data file; throws `requireSharedDataFile`'s error when it is missing. */
export function readSharedDataFile(name: SharedDataName): string {
  return readFileSync(requireSharedDataFile(name), 'utf8');
}

/** The shared data files that are missing (none when the folder is complete). */
export function missingSharedDataFiles(): SharedDataName[] {
  return SHARED_DATA_FILES.filter((name) => !existsSync(sharedDataFile(name)));
}
