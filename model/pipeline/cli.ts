/**
 * `npm run pipeline -- --data <file> [--data <file>…] [--out <dir>] [--seed N] …`
 * trains, evaluates, gates and publishes a model; `npm run pipeline -- runs`
 * lists recorded runs and `runs --compare A B` compares two. Expected
 * failures (bad input, gate, parity) print `file:row:column: problem` lines or
 * one sentence and exit 1; usage errors exit 2.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultKeyDir } from '../admin/label-keys.ts';
import { type ServerTarget, serverTarget } from '../admin/server-client.ts';
import type { DataSource } from '../contract/index.ts';
import { defaultRecipes } from './candidates.ts';
import { FULL_CV } from './cross-validate.ts';
import { type FieldData, publishSigned, pullFromServer } from './from-server.ts';
import { formatProblem, PipelineError } from './problems.ts';
import { DEFAULT_OPTIONS, type NetworkParams, type PipelineOptions, runPipeline } from './run-pipeline.ts';
import { formatRunComparison, formatRunsTable, listRuns } from './runs.ts';

const HELP = `Usage:
  npm run pipeline -- --data <csv|parquet> [--data <file>…] [--out <dir>] [options]
  npm run pipeline -- --from-server <url> [--token <admin token>] [--data <file>…] [--publish] [options]
  npm run pipeline -- runs [--runs-dir <dir>] [--compare <runIdA> <runIdB>]

Retraining from the field:
  --from-server <url>        pull the server's outcomes (with the songs' features) and its production model; the
                             outcomes are merged with any --data files by song id, the gate compares the candidate
                             with that production model on the held-out songs and on recent outcomes
  --token <t>                admin token (default JUKEBOX_ADMIN_TOKEN)
  --recent-days <n>          outcomes dated in the last n days count as recent (default 30)
  --recent-min-pairs <n>     fewest recent (song, country) pairs for that comparison (default 50)
  --publish                  if the gate passes, sign the model with the label key and publish it as a candidate
  --key-dir <dir>            the label's key pair (default JUKEBOX_KEY_DIR or ~/.jukebox; see npm run model -- keygen)

Options:
  --out <dir>                publish model.json, weights.bin, manifest.json, card.md, card.json here (only if the gate passes)
  --seed <n>                 seed for split, initialisation, dropout and batch order (default ${DEFAULT_OPTIONS.seed})
  --cache-dir <dir>          step cache (default ${DEFAULT_OPTIONS.cacheDir}); --no-cache disables it
  --runs-dir <dir>           where runs are recorded (default ${DEFAULT_OPTIONS.runsDir})
  --production <dir|none>    production model to gate against (default ${DEFAULT_OPTIONS.production}, if it exists)
  --gate-tolerance <x>       allowed macro AUC drop vs production (default ${DEFAULT_OPTIONS.gateTolerance})
  --hidden <a,b,…>           hidden layer sizes of the model (default ${DEFAULT_OPTIONS.model.hidden.join(',')})
  --dropout <x> --l2 <x> --learning-rate <x> --batch-size <n> --patience <n>
  --max-epochs <n>           cap for every trained network (model and baselines)
  --positive-weighting <none|sqrt> --max-positive-weight <x>
  --members <n>              networks from different seeds, folded into one exported network
  --softmax-weight <x>       weight of the extra softmax cross-entropy term (0 = plain weighted BCE)
  --validation-share <x> --test-share <x>
  --cv-folds <n>             song-grouped cross-validation folds for selection and the gate (default ${FULL_CV.folds});
                             0 = the single split decides (no refit on all songs)
  --cv-repeats <n>           repeats of the k folds, each from its own shuffle (default ${FULL_CV.repeats})
  --cv-more-members <n>      the "more members" candidate's network count (default 5; ≤ --members drops it)
  --quiet                    no progress bars or step lines
`;

function fail(message: string, code = 2): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

function num(name: string, v: string | undefined, fallback: number, integer = false): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)))
    fail(`--${name} must be a ${integer ? 'whole ' : ''}number, got ${JSON.stringify(v)}`);
  return n;
}

async function runsCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    options: { 'runs-dir': { type: 'string' }, compare: { type: 'boolean' } },
    allowPositionals: true,
  });
  const runs = await listRuns(values['runs-dir'] ?? DEFAULT_OPTIONS.runsDir);
  if (values.compare) {
    const [a, b] = positionals.map((id) => runs.find((r) => r.runId === id || r.runId.startsWith(id)));
    if (!a || !b) fail('runs --compare needs two recorded run ids (or unique prefixes)');
    process.stdout.write(`${formatRunComparison(a, b)}\n`);
    return;
  }
  if (runs.length === 0) {
    process.stdout.write('no runs recorded yet\n');
    return;
  }
  process.stdout.write(`${formatRunsTable(runs)}\n`);
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'runs') return runsCommand(argv.slice(1));
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(argv);
  } catch (e) {
    fail(`${(e as Error).message}\n\n${HELP}`);
  }
  const { values } = parsed;
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const data = [...(values.data ?? [])];
  const fromServer = values['from-server'];
  if (data.length === 0 && !fromServer) fail(`--data is required (or --from-server <url>)\n\n${HELP}`);
  if (values.publish && !fromServer) fail('--publish needs --from-server (the server to publish to)');
  const runsDir = values['runs-dir'] ?? DEFAULT_OPTIONS.runsDir;
  const quietLog = values.quiet ? () => {} : (line: string) => process.stderr.write(`${line}\n`);
  let target: ServerTarget | null = null;
  let field: FieldData | null = null;
  let workDir: string | null = null;
  const origins: Record<string, DataSource> = {};
  if (fromServer) {
    try {
      target = serverTarget(fromServer, values.token);
    } catch (e) {
      fail((e as Error).message);
    }
    workDir = join(runsDir, 'from-server', new Date().toISOString().replace(/[:.]/g, '-'));
    try {
      field = await pullFromServer(target, workDir, {
        recentDays: num('recent-days', values['recent-days'], 30, true),
      });
    } catch (e) {
      process.stderr.write(`pipeline stopped: could not read from ${target.url}: ${(e as Error).message}\n`);
      process.exit(1);
    }
    quietLog(
      `from server: ${field.outcomes} outcomes (${field.withoutFeatures} without known features), ${field.chartRows} charted (song, country) rows, ${field.recent.length} recent pairs; production ${field.production?.version ?? 'none'}`,
    );
    if (field.csvPath) {
      data.push(field.csvPath);
      origins[field.csvPath] = field.source;
    }
    if (data.length === 0)
      fail('nothing to train on: the server has no outcomes with known features and no --data was given', 1);
  }
  const maxEpochs = values['max-epochs'] === undefined ? undefined : num('max-epochs', values['max-epochs'], 0, true);
  const capped = (p: NetworkParams): NetworkParams => (maxEpochs === undefined ? p : { ...p, maxEpochs });
  const d = DEFAULT_OPTIONS.model;
  const weighting = values['positive-weighting'] ?? d.positiveWeighting;
  if (weighting !== 'none' && weighting !== 'sqrt') fail('--positive-weighting must be none or sqrt');
  const hidden =
    values.hidden === undefined
      ? d.hidden
      : values.hidden
          .split(',')
          .filter((s) => s !== '')
          .map((s) => num('hidden', s, 0, true));
  const model: NetworkParams = capped({
    hidden,
    dropout: num('dropout', values.dropout, d.dropout),
    l2: num('l2', values.l2, d.l2),
    learningRate: num('learning-rate', values['learning-rate'], d.learningRate),
    batchSize: num('batch-size', values['batch-size'], d.batchSize, true),
    maxEpochs: d.maxEpochs,
    patience: num('patience', values.patience, d.patience, true),
    positiveWeighting: weighting,
    maxPositiveWeight: num('max-positive-weight', values['max-positive-weight'], d.maxPositiveWeight),
    softmaxWeight: num('softmax-weight', values['softmax-weight'], d.softmaxWeight),
    members: num('members', values.members, d.members, true),
  });
  const localDefault = existsSync(DEFAULT_OPTIONS.production ?? '') ? DEFAULT_OPTIONS.production : null;
  const production =
    values.production === 'none'
      ? null
      : (values.production ?? (field ? (field.production?.dir ?? null) : localDefault));
  if (production && values.production !== undefined && !existsSync(production)) {
    fail(`--production ${production} does not exist (use --production none to skip the comparison)`);
  }
  const quiet = values.quiet ?? false;
  const cvFolds = num('cv-folds', values['cv-folds'], FULL_CV.folds, true);
  const cvRepeats = num('cv-repeats', values['cv-repeats'], FULL_CV.repeats, true);
  if (cvFolds === 1 || cvFolds < 0) fail('--cv-folds must be 0 (off) or at least 2');
  if (cvRepeats < 1) fail('--cv-repeats must be at least 1');
  const logistic = capped(DEFAULT_OPTIONS.logistic);
  const options: PipelineOptions = {
    ...DEFAULT_OPTIONS,
    data,
    out: values.out ?? (values.publish && workDir ? join(workDir, 'model') : null),
    origins,
    ...(field ? { recentOutcomes: field.recent, songDates: field.songDates } : {}),
    recentMinPairs: num('recent-min-pairs', values['recent-min-pairs'], 50, true),
    seed: num('seed', values.seed, DEFAULT_OPTIONS.seed, true),
    cacheDir: values['no-cache'] ? null : (values['cache-dir'] ?? DEFAULT_OPTIONS.cacheDir),
    runsDir,
    production,
    validationShare: num('validation-share', values['validation-share'], DEFAULT_OPTIONS.validationShare),
    testShare: num('test-share', values['test-share'], DEFAULT_OPTIONS.testShare),
    model,
    logistic,
    cv:
      cvFolds === 0
        ? null
        : {
            settings: { ...FULL_CV, folds: cvFolds, repeats: cvRepeats },
            recipes: defaultRecipes(model, logistic, num('cv-more-members', values['cv-more-members'], 5, true)),
            fallback: 'network',
          },
    course: capped(DEFAULT_OPTIONS.course),
    gateTolerance: num('gate-tolerance', values['gate-tolerance'], DEFAULT_OPTIONS.gateTolerance),
    progress: !quiet && process.stderr.isTTY === true,
    log: quiet ? () => {} : (line) => process.stderr.write(`${line}\n`),
  };
  try {
    const r = await runPipeline(options);
    const m = r.record.metrics?.model;
    process.stdout.write(
      `${r.record.status}: ${r.record.version ?? '-'} macro AUC ${m?.macroAuc.toFixed(4)} top-5 hit ${m?.top5Hit.toFixed(4)} in ${(r.record.durationMs / 1000).toFixed(1)} s (run ${r.record.runId})\n`,
    );
    if (values.publish && target && options.out) {
      try {
        const p = await publishSigned(target, options.out, values['key-dir'] ?? defaultKeyDir());
        process.stdout.write(
          `published candidate ${p.version} to ${target.url}${p.created ? '' : ' (already there)'}, signed with key ${p.keyId.slice(0, 12)}\n`,
        );
      } catch (e) {
        process.stderr.write(`pipeline stopped: publishing failed: ${(e as Error).message}\n`);
        process.exit(1);
      }
    }
  } catch (e) {
    if (!(e instanceof PipelineError)) throw e;
    const shown = e.problems.slice(0, 50);
    for (const p of shown) process.stderr.write(`${formatProblem(p)}\n`);
    if (e.problems.length > shown.length)
      process.stderr.write(`… and ${e.problems.length - shown.length} more problems\n`);
    process.stderr.write(`pipeline stopped: ${e.code}: ${e.message}\n`);
    process.exit(1);
  }
}

function parseOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      data: { type: 'string', multiple: true },
      out: { type: 'string' },
      seed: { type: 'string' },
      'cache-dir': { type: 'string' },
      'no-cache': { type: 'boolean' },
      'runs-dir': { type: 'string' },
      production: { type: 'string' },
      'gate-tolerance': { type: 'string' },
      hidden: { type: 'string' },
      dropout: { type: 'string' },
      l2: { type: 'string' },
      'learning-rate': { type: 'string' },
      'batch-size': { type: 'string' },
      patience: { type: 'string' },
      'max-epochs': { type: 'string' },
      'positive-weighting': { type: 'string' },
      'max-positive-weight': { type: 'string' },
      'softmax-weight': { type: 'string' },
      members: { type: 'string' },
      'validation-share': { type: 'string' },
      'test-share': { type: 'string' },
      'cv-folds': { type: 'string' },
      'cv-repeats': { type: 'string' },
      'cv-more-members': { type: 'string' },
      quiet: { type: 'boolean' },
      'from-server': { type: 'string' },
      token: { type: 'string' },
      publish: { type: 'boolean' },
      'key-dir': { type: 'string' },
      'recent-days': { type: 'string' },
      'recent-min-pairs': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`pipeline failed unexpectedly: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(70);
});
