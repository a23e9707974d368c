/**
 * Step 6, evaluate: the candidate's metrics on the held-out test songs beside
 * the baselines computed in the same run (country-frequency prior, logistic
 * regression, the course's network), per-country AUC and a reliability
 * table, plus the current production model scored on the same songs.
 */
import { COUNTRY_CODES, type CountryCode, type Evaluation, type Metrics } from '../contract/index.ts';
import { type DenseWeights, predictReference } from '../runtime/dense-model.ts';
import { computeMetrics, perColumnAuc, reliabilityTable } from './metrics.ts';
import { buildNetwork, loadWeightsInto, predictWith } from './train.ts';

const K = COUNTRY_CODES.length;

/** Runs standardised-input weights through a tfjs-layers network: the in-memory trained model. */
export function predictInMemory(w: DenseWeights, x: Float32Array, rows: number): Float32Array {
  // With trees: the float64 reference forward pass, trees added to the last pre-activation.
  if (w.trees) {
    const out = new Float32Array(rows * w.outputSize);
    for (let r = 0; r < rows; r++)
      out.set(predictReference(w, x.subarray(r * w.inputSize, (r + 1) * w.inputSize)), r * w.outputSize);
    return out;
  }
  const hidden = w.layers.slice(0, -1).map((l) => l.units);
  const act = w.layers.length > 1 && w.layers[0]?.activation === 'linear' ? 'linear' : 'relu';
  const model = buildNetwork(hidden, 0, 0, 0, act);
  try {
    loadWeightsInto(model, w);
    return predictWith(model, x, rows);
  } finally {
    model.dispose();
  }
}

/** The prior baseline: every song gets the training share of songs that charted in each country. */
export function priorPredictions(trainPositives: readonly number[], trainRows: number, rows: number): Float32Array {
  const out = new Float32Array(rows * K);
  for (let r = 0; r < rows; r++) for (let c = 0; c < K; c++) out[r * K + c] = (trainPositives[c] as number) / trainRows;
  return out;
}

export function buildEvaluation(
  split: 'test' | 'validation',
  y: Float32Array,
  rows: number,
  model: Float32Array,
  baselines: Readonly<Record<string, Float32Array>>,
): Evaluation {
  const auc = perColumnAuc(model, y, rows, K);
  return {
    split,
    songs: rows,
    model: computeMetrics(model, y, rows, K),
    baselines: Object.fromEntries(Object.entries(baselines).map(([name, p]) => [name, computeMetrics(p, y, rows, K)])),
    perCountryAuc: Object.fromEntries(COUNTRY_CODES.map((c, i) => [c, auc[i] ?? null])) as Record<
      CountryCode,
      number | null
    >,
    reliability: reliabilityTable(model, y),
  };
}

export interface ProductionScore {
  readonly dir: string;
  readonly version: string;
  readonly metrics: Metrics;
}
