/**
 * Cheaper cross-validation for exploring candidates: the pipeline's own folds (`cvFolds`, seed 42 unless
 * given) and fold trainer (`fitFold`), on a named subset of `defaultRecipes`, one repeat unless told, each
 * fold written to its own JSON file as it finishes (an interrupted run resumes; two processes can take
 * different folds). Nothing is gated or published: confirm a winner with the full 5 × 3 of `pipeline:default`.
 *
 *   npx tsx model/pipeline/explore-cv.ts run --candidates network,logistic,stack-4 --out .runs/explore [--folds 0,1] [--repeats 1] [--only-repeat r]
 *   npx tsx model/pipeline/explore-cv.ts summary --out .runs/explore
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { COUNTRY_CODES } from '../contract/index.ts';
import { useBackend } from './backend.ts';
import { defaultRecipes, explorationRecipes, fitFold } from './candidates.ts';
import {
  candidateInterval,
  cvFolds,
  type FoldRecord,
  FULL_CV,
  foldRecord,
  pairedDifference,
} from './cross-validate.ts';
import { ingestFiles } from './ingest.ts';
import { computeMetrics } from './metrics.ts';
import { DEFAULT_MODEL, LOGISTIC } from './run-pipeline.ts';
import { buildTargets } from './targets.ts';
import { validateTables } from './validate.ts';

const K = COUNTRY_CODES.length;

async function songsOf(files: readonly string[]) {
  const ing = await ingestFiles(files);
  if (!ing.ok) throw new Error(`could not read ${files.join(', ')}: ${ing.problems[0]?.code ?? ''}`);
  const v = validateTables(ing.tables);
  if (!v.ok) throw new Error(`validation failed: ${v.problems[0]?.code ?? ''}`);
  return buildTargets(v.rows).songs;
}

async function run(
  out: string,
  names: readonly string[],
  data: readonly string[],
  folds: number[] | null,
  repeats: number,
  seed: number,
  onlyRepeat: number | null,
) {
  const all = [...defaultRecipes(DEFAULT_MODEL, LOGISTIC, 5), ...explorationRecipes(DEFAULT_MODEL)];
  const recipes = all.filter((r) => names.includes(r.name));
  const missing = names.filter((n) => !recipes.some((r) => r.name === n));
  if (missing.length > 0)
    throw new Error(`no candidate named ${missing.join(', ')} (known: ${all.map((r) => r.name).join(', ')})`);
  // A stack needs the candidates it reads.
  for (const r of recipes)
    for (const n of r.stackOf ?? [])
      if (!names.includes(n)) throw new Error(`${r.name} stacks ${n}: add it to --candidates`);
  await mkdir(out, { recursive: true });
  const songs = await songsOf(data);
  await useBackend('wasm');
  const scoreFold = fitFold(recipes, seed);
  for (const f of cvFolds(songs, { ...FULL_CV, repeats }, seed)) {
    if (folds && !folds.includes(f.fold)) continue;
    if (onlyRepeat !== null && f.repeat !== onlyRepeat) continue;
    const file = join(out, `fold-${f.repeat}-${f.fold}.json`);
    if (existsSync(file)) continue;
    const t0 = Date.now();
    const r = await scoreFold(f);
    const y = new Float32Array(f.test.length * K);
    f.test.forEach((s, i) => {
      for (const c of s.y) y[i * K + c] = 1;
    });
    const scores: FoldRecord['scores'] = {};
    for (const [n, p] of Object.entries(r.scores)) {
      const m = computeMetrics(p, y, f.test.length, K);
      scores[n] = { macroAuc: m.macroAuc, top5Hit: m.top5Hit };
    }
    const rec = foldRecord(f, r, scores);
    await writeFile(file, JSON.stringify(rec));
    console.log(`repeat ${f.repeat} fold ${f.fold}: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
}

async function summary(out: string) {
  const files = (await readdir(out)).filter((n) => /^fold-\d+-\d+\.json$/.test(n)).sort();
  const recs: FoldRecord[] = await Promise.all(
    files.map(async (n) => JSON.parse(await readFile(join(out, n), 'utf8'))),
  );
  // Only candidates scored in every fold are compared (paired).
  const names = Object.keys(recs[0]?.scores ?? {}).filter((n) => recs.every((r) => r.scores[n]));
  const f = (x: number) => x.toFixed(4);
  const s = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(4)}`;
  const iv = (i: { mean: number; lo: number; hi: number }, sign = false) =>
    sign ? `${s(i.mean)} [${s(i.lo)}, ${s(i.hi)}]` : `${f(i.mean)} [${f(i.lo)}, ${f(i.hi)}]`;
  console.log(`${recs.length} folds (corrected resampled t intervals, paired per fold)\n`);
  console.log(
    '| candidate | macro AUC | top-5 hit | macro AUC − logistic | top-5 hit − logistic | macro AUC − network | top-5 hit − network |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const n of names) {
    const e = candidateInterval(recs, n);
    const dl = n !== 'logistic' && names.includes('logistic') ? pairedDifference(recs, n, 'logistic') : null;
    const dn = n !== 'network' && names.includes('network') ? pairedDifference(recs, n, 'network') : null;
    console.log(
      `| ${n} | ${iv(e.macroAuc)} | ${iv(e.top5Hit)} | ${dl ? iv(dl.macroAuc, true) : '–'} | ${dl ? iv(dl.top5Hit, true) : '–'} | ${dn ? iv(dn.macroAuc, true) : '–'} | ${dn ? iv(dn.top5Hit, true) : '–'} |`,
    );
  }
  const weights = recs.flatMap((r) =>
    Object.entries(r.stackWeights ?? {}).map(([n, w]) => `${n} ${JSON.stringify(w)}`),
  );
  if (weights.length > 0) console.log(`\nstack weights per fold: ${weights.join('; ')}`);
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    candidates: { type: 'string' },
    out: { type: 'string' },
    data: { type: 'string', multiple: true },
    folds: { type: 'string' },
    repeats: { type: 'string' },
    seed: { type: 'string' },
    'only-repeat': { type: 'string' },
  },
});
const out = values.out ?? '.runs/explore';
if (positionals[0] === 'summary') await summary(out);
else if (positionals[0] === 'run' && values.candidates)
  await run(
    out,
    values.candidates.split(','),
    values.data ?? [join(process.env.JUKEBOX_DATA_DIR ?? '../shared/data', 'charts-2023.csv')],
    values.folds ? values.folds.split(',').map(Number) : null,
    Number(values.repeats ?? 1),
    Number(values.seed ?? 42),
    values['only-repeat'] === undefined ? null : Number(values['only-repeat']),
  );
else {
  console.error(
    'usage: explore-cv.ts run --candidates a,b[,…] [--out dir] [--folds 0,1] [--repeats n] [--only-repeat r] [--data file] | summary [--out dir]',
  );
  process.exit(2);
}
