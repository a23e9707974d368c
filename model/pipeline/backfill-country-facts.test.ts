import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManifestSchema } from '../contract/index.ts';
import { requireSharedDataFile } from '../shared-data.ts';
import { backfillCountryFacts } from './backfill-country-facts.ts';

const shipped = resolve(import.meta.dirname, '../../public/models/default');
const dir = mkdtempSync(join(tmpdir(), 'backfill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('backfillCountryFacts', () => {
  it('re-derives the shipped facts from the data and the lineage alone, and refuses a split that differs', async () => {
    const manifest = JSON.parse(readFileSync(join(shipped, 'manifest.json'), 'utf8'));
    const { countryFacts, featureBounds, ...bare } = manifest;
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(bare));
    const data = requireSharedDataFile('charts-2023.csv');
    const out = await backfillCountryFacts(dir, [data]);
    expect(out.countryFacts).toEqual(countryFacts);
    expect(out.featureBounds).toEqual(featureBounds);
    expect(ManifestSchema.parse(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))).version).toBe(
      bare.version,
    );

    // Another seed gives other training songs: the reference profile no longer matches, nothing is written.
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...bare, lineage: { ...bare.lineage, seed: 7 } }));
    await expect(backfillCountryFacts(dir, [data])).rejects.toThrow(/reference/);
    expect(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).countryFacts).toBeUndefined();
  });
});
