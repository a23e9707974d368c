import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// SHARED_DATA_DIR is read from JUKEBOX_DATA_DIR when the module loads: each case sets it, then imports afresh.
async function sharedDataIn(dir: string) {
  vi.stubEnv('JUKEBOX_DATA_DIR', dir);
  vi.resetModules();
  return import('./shared-data.ts');
}

const missingMessage = (name: string, dir: string) =>
  `${name} not found at ${join(dir, name)}. Keep the data folder at ../shared/data beside this checkout, or set JUKEBOX_DATA_DIR to the folder that holds it.`;

describe('shared data', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'shared-data-'));
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    rmSync(dir, { recursive: true, force: true });
  });

  it('names the file, where it looked and JUKEBOX_DATA_DIR when a file is missing', async () => {
    const data = await sharedDataIn(dir);
    expect(data.SHARED_DATA_DIR).toBe(dir);
    expect(() => data.requireSharedDataFile('charts-2023.csv')).toThrow(missingMessage('charts-2023.csv', dir));
    expect(() => data.readSharedDataFile('song-catalog.csv')).toThrow(missingMessage('song-catalog.csv', dir));
    expect(data.missingSharedDataFiles()).toEqual(['charts-2023.csv', 'song-catalog.csv']);
  });

  it('says the same when the folder itself does not exist', async () => {
    const absent = join(dir, 'not-here');
    const data = await sharedDataIn(absent);
    expect(() => data.readSharedDataFile('charts-2023.csv')).toThrow(missingMessage('charts-2023.csv', absent));
  });

  it('gives the path and the text of files that are there', async () => {
    writeFileSync(join(dir, 'song-catalog.csv'), 'a,b\n1,2\n');
    const data = await sharedDataIn(dir);
    expect(data.requireSharedDataFile('song-catalog.csv')).toBe(join(dir, 'song-catalog.csv'));
    expect(data.readSharedDataFile('song-catalog.csv')).toBe('a,b\n1,2\n');
    expect(data.missingSharedDataFiles()).toEqual(['charts-2023.csv']);
  });
});
