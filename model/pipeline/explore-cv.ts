/**
 * Cheaper cross-validation for exploring candidates: the pipeline's own folds (`cvFolds`, seed 42 unless
 * given) and fold trainer (`fitFold`), on a named subset of `defaultRecipes` + `explorationRecipes`, one
 * repeat unless told, each fold written to its own JSON file as it finishes (an interrupted run resumes; two
 * processes can take different folds), with every candidate's test logits. Nothing is gated or published.
 *
 * `summary --pipeline-cache .cache/pipeline` adds the candidates a `pipeline:default` run already scored in the
 * same folds (its cached `cv-fold` steps; a cached fold is matched to an explored one by logistic regression's
 * logits, which are deterministic, so `logistic` must be among the explored candidates), and scores every
 * exploration recipe that is a weighted sum of scored single-part candidates (an ensemble) from their logits:
 * a recipe's logit is linear in its parts', so this is exactly what training it would give.
 *
 *   npx tsx model/pipeline/explore-cv.ts run --candidates network,logistic,stack-4 --out .runs/explore [--folds 0,1] [--repeats 1] [--only-repeat r]
 *   npx tsx model/pipeline/explore-cv.ts summary --out .runs/explore [--pipeline-cache .cache/pipeline] [--explored-only]
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { COUNTRY_CODES } from '../contract/index.ts';
import { requireSharedDataFile } from '../shared-data.ts';
import { useBackend } from './backend.ts';
import { decodeValue, encodeValue } from './cache.ts';
import { defaultRecipes, explorationRecipes, fitFold, type Recipe, sameRecipe } from './candidates.ts';
import {
  type CvFold,
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

/** A fold record with every candidate's logits on the fold's test songs. */
type ExploredFold = FoldRecord & { logits?: Record<string, Float32Array> };

const allRecipes = (): Recipe[] => [
  ...defaultRecipes(DEFAULT_MODEL, LOGISTIC, 5),
  ...explorationRecipes(DEFAULT_MODEL),
];

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

const labelsOf = (f: CvFold) => {
  const y = new Float32Array(f.test.length * K);
  f.test.forEach((s, i) => {
    for (const c of s.y) y[i * K + c] = 1;
  });
  return y;
};

/**
 * The fold a cached `cv-fold` step scored: its logistic logits equal an explored fold's (deterministic
 * training), or else the one fold of the same size whose labels its network ranks far better than chance
 * (any other fold's labels score about 0.5).
 */
function identify(
  c: { scores: Record<string, Float32Array> },
  folds: readonly CvFold[],
  recs: readonly ExploredFold[],
): CvFold | undefined {
  const lg = c.scores.logistic;
  const byLogits = recs.find((r) => r.logits?.logistic && lg && maxAbsDiff(r.logits.logistic, lg) < 1e-6);
  if (byLogits) return folds.find((f) => f.repeat === byLogits.repeat && f.fold === byLogits.fold);
  const z = c.scores.network;
  if (!z) return undefined;
  const fits = folds
    .filter((f) => f.test.length * K === z.length)
    .map((f) => ({ f, auc: computeMetrics(z, labelsOf(f), f.test.length, K).macroAuc }))
    .sort((p, q) => q.auc - p.auc);
  const [best, next] = fits;
  return best && best.auc > 0.6 && (!next || best.auc - next.auc > 0.05) ? best.f : undefined;
}

/**
 * The explored folds plus the pipeline's cached ones (`cv-fold` steps, each identified by `identify`), the
 * ensembles that are weighted sums of scored single-part candidates added from their logits, and metrics for
 * every candidate with logits.
 */
async function mergeFolds(recs: ExploredFold[], cacheDir: string | null, data: readonly string[], seed: number) {
  const songs = await songsOf(data);
  const folds = cvFolds(songs, FULL_CV, seed);
  const byFold = new Map<string, ExploredFold>(recs.map((r) => [`${r.repeat}-${r.fold}`, r]));
  const dir = cacheDir ? join(cacheDir, 'cv-fold') : null;
  for (const n of dir && existsSync(dir) ? await readdir(dir) : []) {
    if (!n.endsWith('.json') || !dir) continue;
    const c = decodeValue<{ scores: Record<string, Float32Array>; epochs: Record<string, number[]> }>(
      await readFile(join(dir, n), 'utf8'),
    );
    const f = identify(c, folds, recs);
    if (!f) {
      console.log(`${n}: matches no fold of this data and seed, left out`);
      continue;
    }
    const key = `${f.repeat}-${f.fold}`;
    const had = byFold.get(key);
    byFold.set(
      key,
      had
        ? { ...had, logits: { ...c.scores, ...had.logits } }
        : {
            repeat: f.repeat,
            fold: f.fold,
            trainSongs: f.train.length,
            validationSongs: f.validation.length,
            testSongs: f.test.length,
            scores: {},
            epochs: c.epochs,
            logits: c.scores,
          },
    );
  }
  const recipes = allRecipes();
  const single = recipes.filter((r) => !r.stackOf && r.parts.length === 1);
  return [...byFold.values()]
    .sort((p, q) => p.repeat - q.repeat || p.fold - q.fold)
    .map((rec) => {
      const f = folds.find((x) => x.repeat === rec.repeat && x.fold === rec.fold);
      if (!f || !rec.logits) return rec;
      const logits = { ...rec.logits };
      for (const r of recipes) {
        if (logits[r.name] || r.stackOf) continue;
        const from = r.parts.map((p) =>
          single.find((c) => logits[c.name] && sameRecipe(c, { parts: [{ params: p.params, weight: 1 }] })),
        );
        if (from.some((c) => !c)) continue;
        const z = new Float32Array(f.test.length * K);
        r.parts.forEach((p, i) => {
          const l = logits[(from[i] as Recipe).name] as Float32Array;
          for (let j = 0; j < z.length; j++) z[j] = (z[j] as number) + p.weight * (l[j] as number);
        });
        logits[r.name] = z;
      }
      const y = labelsOf(f);
      const scores = { ...rec.scores };
      for (const [n, z] of Object.entries(logits)) {
        if (scores[n]) continue;
        const m = computeMetrics(z, y, f.test.length, K);
        scores[n] = { macroAuc: m.macroAuc, top5Hit: m.top5Hit };
      }
      return { ...rec, scores, logits };
    });
}

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
  const all = allRecipes();
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
    const rec: ExploredFold = { ...foldRecord(f, r, scores), logits: r.scores };
    await writeFile(file, encodeValue(rec));
    console.log(`repeat ${f.repeat} fold ${f.fold}: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
}

async function summary(
  out: string,
  cacheDir: string | null,
  data: readonly string[],
  seed: number,
  exploredOnly: boolean,
) {
  const files = existsSync(out) ? (await readdir(out)).filter((n) => /^fold-\d+-\d+\.json$/.test(n)).sort() : [];
  const read: ExploredFold[] = await Promise.all(
    files.map(async (n) => decodeValue<ExploredFold>(await readFile(join(out, n), 'utf8'))),
  );
  const merged = await mergeFolds(read, cacheDir, data, seed);
  // --explored-only: the folds of this exploration (where its own candidates were trained), not every cached one.
  const recs = exploredOnly
    ? merged.filter((r) => read.some((e) => e.repeat === r.repeat && e.fold === r.fold))
    : merged;
  // Only candidates scored in every fold are compared (paired).
  const names = [...new Set(recs.flatMap((r) => Object.keys(r.scores)))].filter((n) => recs.every((r) => r.scores[n]));
  const partial = [...new Set(recs.flatMap((r) => Object.keys(r.scores)))].filter((n) => !names.includes(n));
  if (partial.length > 0) console.log(`scored in some folds only (left out): ${partial.join(', ')}`);
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
    'pipeline-cache': { type: 'string' },
    'explored-only': { type: 'boolean' },
  },
});
const out = values.out ?? '.runs/explore';
// The shared data is looked up only for a command that reads it, so a usage error is still reported as one.
const dataFiles = (): string[] => values.data ?? [requireSharedDataFile('charts-2023.csv')];
if (positionals[0] === 'summary')
  await summary(
    out,
    values['pipeline-cache'] ?? null,
    dataFiles(),
    Number(values.seed ?? 42),
    values['explored-only'] ?? false,
  );
else if (positionals[0] === 'run' && values.candidates)
  await run(
    out,
    values.candidates.split(','),
    dataFiles(),
    values.folds ? values.folds.split(',').map(Number) : null,
    Number(values.repeats ?? 1),
    Number(values.seed ?? 42),
    values['only-repeat'] === undefined ? null : Number(values['only-repeat']),
  );
else {
  console.error(
    'usage: explore-cv.ts run --candidates a,b[,…] [--out dir] [--folds 0,1] [--repeats n] [--only-repeat r] [--data file] | summary [--out dir] [--pipeline-cache dir] [--explored-only]',
  );
  process.exit(2);
}
