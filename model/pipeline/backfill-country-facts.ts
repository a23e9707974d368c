/**
 * Adds `countryFacts` and `featureBounds` to a published model's manifest without retraining: the same data,
 * split again with the seed and shares its lineage records, must reproduce the manifest's reference profile
 * (song count and every feature mean) before anything is written; weights and version stay as they are.
 *
 *   npx tsx model/pipeline/backfill-country-facts.ts public/models/default ../shared/data/charts-2023.csv
 *
 * A signed manifest would need signing again (the facts are inside what the signature covers): refused.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FEATURE_NAMES, type Manifest, ManifestSchema } from '../contract/index.ts';
import { countryFacts, featureBounds } from './country-facts.ts';
import { ingestFiles } from './ingest.ts';
import { splitBySong } from './split.ts';
import { buildTargets, featureMatrix, labelMatrix } from './targets.ts';
import { validateTables } from './validate.ts';

export async function backfillCountryFacts(modelDir: string, dataFiles: readonly string[]): Promise<Manifest> {
  const path = join(modelDir, 'manifest.json');
  const manifest = ManifestSchema.parse(JSON.parse(await readFile(path, 'utf8')));
  if (manifest.signature) throw new Error('the manifest is signed: re-run the pipeline (or sign again) instead');
  const ing = await ingestFiles(dataFiles);
  if (!ing.ok)
    throw new Error(`data could not be read: ${ing.problems[0]?.code ?? 'unknown'} ${ing.problems[0]?.detail ?? ''}`);
  const want = manifest.lineage.datasets.map((d) => d.sha256).sort();
  const got = ing.tables.map((t) => t.sha256).sort();
  if (want.join() !== got.join()) throw new Error(`the data files are not the ones the model was trained on`);
  const v = validateTables(ing.tables);
  if (!v.ok) throw new Error('the data files failed validation');
  const params = manifest.lineage.parameters as { validationShare?: number; testShare?: number };
  const split = splitBySong(buildTargets(v.rows).songs, {
    seed: manifest.lineage.seed,
    validationShare: params.validationShare ?? 0.15,
    testShare: params.testShare ?? 0.15,
  });
  // A model refit on every song (cross-validated pipeline) was profiled on all of them; otherwise on train + validation.
  const all = [...split.train, ...split.validation, ...split.test];
  const fit = manifest.reference.songs === all.length ? all : [...split.train, ...split.validation];
  const raw = featureMatrix(fit);
  // The split must be the one the model was trained and profiled on.
  if (fit.length !== manifest.reference.songs) {
    throw new Error(`split gives ${fit.length} training songs, the reference profile ${manifest.reference.songs}`);
  }
  FEATURE_NAMES.forEach((name, c) => {
    let sum = 0;
    for (let r = 0; r < fit.length; r++) sum += raw[r * FEATURE_NAMES.length + c] as number;
    const mean = sum / fit.length;
    const ref = manifest.reference.features[c]!.mean;
    if (Math.abs(mean - ref) > 1e-6 * Math.max(1, Math.abs(ref))) {
      throw new Error(`split does not reproduce the reference mean of ${name}: ${mean} vs ${ref}`);
    }
  });
  // The manifest's parity rows are the first test songs of its split: the seed must give the same test songs (for a
  // refit, the training songs are every song whatever the seed, so this is what pins the split).
  const testRaw = featureMatrix(split.test);
  manifest.parity.inputs.forEach((row, r) => {
    row.forEach((v, c) => {
      if (Math.fround(v) !== testRaw[r * FEATURE_NAMES.length + c]) {
        throw new Error(`split does not reproduce the reference: test song ${r} is not the manifest's parity row ${r}`);
      }
    });
  });
  if (split.test.length !== manifest.evaluation.songs) {
    throw new Error(`split gives ${split.test.length} test songs, the evaluation ${manifest.evaluation.songs}`);
  }
  const out = ManifestSchema.parse({
    ...manifest,
    countryFacts: countryFacts(
      labelMatrix(fit),
      fit.length,
      labelMatrix(split.test),
      split.test.length,
      manifest.evaluation.perCountryAuc,
    ),
    featureBounds: featureBounds(raw, fit.length),
  }) as Manifest;
  await writeFile(path, `${JSON.stringify(out, null, 2)}\n`);
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [dir, ...data] = process.argv.slice(2);
  if (!dir || data.length === 0) {
    console.error('usage: backfill-country-facts <model dir> <data file>…');
    process.exit(2);
  }
  backfillCountryFacts(dir, data).then(
    (m) => console.log(`${m.version}: countryFacts (${m.countryFacts?.songs} songs) and featureBounds written`),
    (e: Error) => {
      console.error(e.message);
      process.exit(1);
    },
  );
}
