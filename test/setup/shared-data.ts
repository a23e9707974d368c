/**
 * Vitest global setup: when the shared data folder (model/shared-data.ts) is incomplete, says so once at the
 * start of the run. Nothing is skipped: each test that reads a missing file still fails, with the same message.
 */
import { missingSharedDataFiles, SHARED_DATA_DIR, SHARED_DATA_HINT } from '../../model/shared-data.ts';

export function setup(): void {
  const missing = missingSharedDataFiles();
  if (missing.length === 0) return;
  const via = process.env.JUKEBOX_DATA_DIR === undefined ? '' : ' (from JUKEBOX_DATA_DIR)';
  console.warn(
    `shared data: ${missing.join(' and ')} not found in ${SHARED_DATA_DIR}${via}; the tests that read them will fail. ${SHARED_DATA_HINT}`,
  );
}
