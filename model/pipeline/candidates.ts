/**
 * The candidates that cross-validation judges, as recipes: a weighted sum of
 * parts' logits, each part the mean logit of `members` networks of one
 * setting. The network, logistic regression, a blend of the two, a low-rank
 * multi-task model (linear bottleneck) and more members are all recipes, so
 * one trainer scores them on every fold, refits the chosen one on all songs,
 * and folds it into one relu Dense stack the app's loader runs unchanged.
 */
import { COUNTRY_CODES, FEATURE_NAMES } from '../contract/index.ts';
import type { DenseLayerWeights, DenseWeights } from '../runtime/dense-model.ts';
import { addTreeLogits, concatTrees, type TreeEnsemble } from '../runtime/tree-ensemble.ts';
import { type BoostedTreeParams, trainBoostedTrees } from './boosted-trees.ts';
import type { CvFold, FoldFit, FoldRecord } from './cross-validate.ts';
import { fitFeatureTransform } from './feature-transform.ts';
import { computeMetrics } from './metrics.ts';
import { deriveSeed } from './prng.ts';
import {
  applyQuantileTransform,
  fitQuantileTransform,
  prependTransform,
  QUANTILE_KNOTS,
  type QuantileTransform,
} from './quantile-transform.ts';
import { applyScaler, fitScaler, type Scaler } from './scaler.ts';
import { featureMatrix, labelMatrix, type Song } from './targets.ts';
import { type EnsembleParams, positiveWeights, type TrainData, type TrainResult, trainNetwork } from './train.ts';

export type PartParams = Omit<EnsembleParams, 'seed'> & {
  /**
   * Inputs mapped through per-feature relu curves fitted on the training songs, folded into the export: a
   * monotone quantile transform, or engineered features (`feature-transform.ts`: log duration, folded tempo,
   * circle-of-fifths key).
   */
  readonly inputTransform?: 'quantile' | 'features';
  /**
   * Distillation: the networks learn the teacher's probabilities on the training songs (sigmoid of its
   * logits, shifts included) instead of the 0/1 labels. The teacher's networks are trained alongside and
   * not shipped. Cross-validation only: the refit (fixed epochs, no validation) refuses it.
   */
  readonly distillFrom?: { readonly name: string; readonly parts: readonly RecipePart[] };
  /**
   * Boosted trees instead of a network (`boosted-trees.ts`): each member grows trees from its own seed; the
   * network settings are then unused, and the loss is unweighted (no logit shift).
   */
  readonly trees?: BoostedTreeParams;
};

export interface RecipePart {
  /** The networks' settings; `members` networks from the run seed (member k as trainEnsemble seeds it). */
  readonly params: PartParams;
  /** Weight of this part's mean logit in the candidate's logit. */
  readonly weight: number;
}

export interface Recipe {
  readonly name: string;
  readonly description: string;
  readonly parts: readonly RecipePart[];
  /**
   * A learned stack: the candidate's logit is Σ w_i · logit of recipe `stackOf[i]`, the weights w (≥ 0, sum 1)
   * fitted on held-out scores (in a fold: its inner validation songs; for the refit: the out-of-fold scores of
   * the first repeat). `parts` are then the named recipes' parts in order (what it trains, what it costs).
   */
  readonly stackOf?: readonly string[];
}

const K = COUNTRY_CODES.length;
const IN = FEATURE_NAMES.length;

/** Member m's seed, exactly as trainEnsemble derives it (so a 5-member recipe reuses a 3-member one's networks). */
export const memberSeed = (seed: number, members: number, m: number) =>
  members === 1 ? seed : deriveSeed(seed, `member-${m}`);

/** Per-country logit shift that undoes weighted cross-entropy (0 for unweighted parts). */
export function logitShift(y: Float32Array, rows: number, p: PartParams): number[] {
  return positiveWeights(y, rows, p).map((w) => -Math.log(w));
}

/** Float64 forward pass up to the output logits (no final sigmoid), rows × 72, trees included. */
export function logitsOf(w: DenseWeights, x: Float32Array, rows: number): Float64Array {
  const out = new Float64Array(rows * w.outputSize);
  if (w.trees) addTreeLogits(w.trees, x, rows, out);
  if (w.layers.length === 0) return out;
  let h = new Float64Array(0);
  for (let r = 0; r < rows; r++) {
    h = Float64Array.from(x.subarray(r * w.inputSize, (r + 1) * w.inputSize));
    w.layers.forEach((l, li) => {
      const next = new Float64Array(l.units);
      for (let j = 0; j < l.units; j++) next[j] = l.bias[j] as number;
      for (let i = 0; i < l.inputs; i++) {
        const v = h[i] as number;
        if (v === 0) continue;
        const row = i * l.units;
        for (let j = 0; j < l.units; j++) next[j] = (next[j] as number) + v * (l.kernel[row + j] as number);
      }
      const last = li === w.layers.length - 1;
      if (!last && l.activation === 'relu') for (let j = 0; j < l.units; j++) next[j] = Math.max(0, next[j] as number);
      h = next;
    });
    for (let c = 0; c < w.outputSize; c++)
      out[r * w.outputSize + c] = (out[r * w.outputSize + c] as number) + (h[c] as number);
  }
  return out;
}

const paramsKey = (p: PartParams) => JSON.stringify({ ...p, members: 0 });

export interface TrainedMember {
  readonly weights: DenseWeights;
  /** The input transform the network reads through (fitted on its training songs), if its part has one. */
  readonly transform?: QuantileTransform;
  readonly bestEpoch: number;
  readonly epochsRun: number;
  readonly validationMacroAuc: number;
}

/**
 * Trains every network the recipes need once (shared between recipes with the same setting and seed).
 * `epochs` given: fixed epochs per distinct setting, no validation (the refit).
 */
export async function trainRecipes(
  recipes: readonly Recipe[],
  train: TrainData,
  validation: TrainData | null,
  seed: number,
  epochs?: ReadonlyMap<string, number>,
  /**
   * The caller uses the validation songs after training (calibration on the split): trees then only early-stop
   * on them and are not grown again on them (`refitOnValidation`), so those songs stay unseen.
   */
  options: { readonly validationHeldOut?: boolean } = {},
): Promise<Map<string, TrainedMember>> {
  const trained = new Map<string, TrainedMember>();
  // An input transform depends on the training songs only: fitted once, shared by every part that uses it.
  const transformed = new Map<string, { q: QuantileTransform; train: TrainData; validation: TrainData | null }>();
  const inputsFor = (p: PartParams) => {
    const kind = p.inputTransform;
    if (!kind) return { train, validation, transform: undefined };
    let t = transformed.get(kind);
    if (!t) {
      let q: QuantileTransform;
      if (kind === 'quantile') q = fitQuantileTransform(train.x, train.rows, IN);
      else {
        if (!train.raw) throw new Error('engineered features need the raw training features');
        q = fitFeatureTransform(train.raw, train.rows, fitScaler(train.raw, train.rows, IN));
      }
      const map = (d: TrainData): TrainData => ({ ...d, x: applyQuantileTransform(q, d.x, d.rows) });
      t = { q, train: map(train), validation: validation ? map(validation) : null };
      transformed.set(kind, t);
    }
    return { train: t.train, validation: t.validation, transform: t.q };
  };
  const trainPart = async (part: RecipePart, targets?: Float32Array) => {
    const inputs = inputsFor(part.params);
    const tr = targets ? { ...inputs.train, y: targets } : inputs.train;
    for (let m = 0; m < part.params.members; m++) {
      const s = memberSeed(seed, part.params.members, m);
      const key = `${paramsKey(part.params)}#${s}`;
      if (trained.has(key)) continue;
      const fixed = epochs?.get(paramsKey(part.params));
      if (part.params.trees) {
        // Trees read the standardised inputs and the raw ones (for the thresholds a device compares).
        const settings = options.validationHeldOut ? { ...part.params.trees, refitOnValidation: 0 } : part.params.trees;
        const grown = trainBoostedTrees(tr, fixed === undefined ? validation : null, settings, s, fixed);
        trained.set(key, {
          weights: { layers: [], inputSize: IN, outputSize: K, trees: grown.trees },
          bestEpoch: grown.count,
          epochsRun: grown.count,
          validationMacroAuc: grown.bestValidationMacroAuc,
        });
        continue;
      }
      const { inputTransform: _t, distillFrom: _d, trees: _g, ...params } = part.params;
      const res: TrainResult = await trainNetwork(tr, fixed === undefined ? inputs.validation : null, {
        ...params,
        ...(fixed === undefined ? {} : { maxEpochs: fixed }),
        seed: s,
      });
      trained.set(key, {
        weights: res.weights,
        ...(inputs.transform ? { transform: inputs.transform } : {}),
        bestEpoch: res.bestEpoch,
        epochsRun: res.history.length,
        validationMacroAuc: res.bestValidationMacroAuc,
      });
    }
  };
  const parts = recipes.flatMap((r) => r.parts);
  const student = parts.find((p) => p.params.distillFrom);
  if (epochs && student)
    throw new Error(`${student.params.distillFrom?.name}-distilled networks are cross-validation only: no refit`);
  // Teachers (and every plain part) first, then the students that learn from them.
  for (const part of parts)
    if (part.params.distillFrom) for (const t of part.params.distillFrom.parts) await trainPart(t);
    else await trainPart(part);
  for (const part of parts) {
    const teacher = part.params.distillFrom;
    if (!teacher) continue;
    const z = recipeLogits(
      { name: teacher.name, description: '', parts: teacher.parts },
      trained,
      seed,
      train,
      train.x,
      train.rows,
    );
    await trainPart(
      part,
      z.map((v) => 1 / (1 + Math.exp(-v))),
    );
  }
  return trained;
}

export function partMembers(
  part: RecipePart,
  trained: ReadonlyMap<string, TrainedMember>,
  seed: number,
): TrainedMember[] {
  return Array.from({ length: part.params.members }, (_, m) => {
    const t = trained.get(`${paramsKey(part.params)}#${memberSeed(seed, part.params.members, m)}`);
    if (!t) throw new Error(`network ${m} of ${part.params.members} was not trained`);
    return t;
  });
}

/**
 * A recipe's logits on standardised inputs: Σ weight · (mean member logit + shift). The shift (−log w_c)
 * undoes weighted training per country, as calibration does for the shipped model, so the cross-country
 * ranking (top-5 hit) is what the app would show.
 */
export function recipeLogits(
  recipe: Recipe,
  trained: ReadonlyMap<string, TrainedMember>,
  seed: number,
  shiftY: { y: Float32Array; rows: number },
  x: Float32Array,
  rows: number,
): Float32Array {
  const out = new Float64Array(rows * K);
  for (const part of recipe.parts) {
    const members = partMembers(part, trained, seed);
    const shift = logitShift(shiftY.y, shiftY.rows, part.params);
    for (const mem of members) {
      const z = logitsOf(mem.weights, mem.transform ? applyQuantileTransform(mem.transform, x, rows) : x, rows);
      const w = part.weight / members.length;
      for (let i = 0; i < z.length; i++)
        out[i] = (out[i] as number) + w * ((z[i] as number) + (shift[i % K] as number));
    }
  }
  return Float32Array.from(out);
}

export function matricesOf(songs: readonly Song[], scaler: Scaler): TrainData & { raw: Float32Array } {
  const raw = featureMatrix(songs);
  return { raw, x: applyScaler(raw, scaler), y: labelMatrix(songs), rows: songs.length };
}

/** Grid step of the stack's weights on the simplex. */
const STACK_STEP = 0.1;

function simplexGrid(n: number, steps: number): number[][] {
  if (n === 1) return [[steps]];
  const out: number[][] = [];
  for (let i = 0; i <= steps; i++) for (const rest of simplexGrid(n - 1, steps - i)) out.push([i, ...rest]);
  return out;
}

/**
 * The stack's weights: the point of the simplex grid (step 0.1) with the best macro AUC + top-5 hit of
 * Σ w_i · logits_i on held-out songs; ties keep the earlier point (more weight on the first recipe).
 */
export function fitStackWeights(logits: readonly Float32Array[], y: Float32Array, rows: number): number[] {
  const steps = Math.round(1 / STACK_STEP);
  let best: number[] = logits.map((_, i) => (i === 0 ? 1 : 0));
  let bestScore = Number.NEGATIVE_INFINITY;
  for (const point of simplexGrid(logits.length, steps)) {
    const w = point.map((v) => v / steps);
    const z = new Float32Array(rows * K);
    w.forEach((wi, i) => {
      if (wi === 0) return;
      const l = logits[i] as Float32Array;
      for (let j = 0; j < z.length; j++) z[j] = (z[j] as number) + wi * (l[j] as number);
    });
    const m = computeMetrics(z, y, rows, K);
    const score = m.macroAuc + m.top5Hit;
    if (score > bestScore + 1e-12) {
      bestScore = score;
      best = w;
    }
  }
  return best;
}

/** The recipes a stack reads, in order (every name must be a recipe without a stack of its own). */
function stackBases(stack: Recipe, recipes: readonly Recipe[]): Recipe[] {
  return (stack.stackOf ?? []).map((n) => {
    const r = recipes.find((x) => x.name === n);
    if (!r || r.stackOf) throw new Error(`stack ${stack.name} needs a plain candidate named ${n}`);
    return r;
  });
}

/** A stack with fixed weights, as the weighted sum of its recipes' parts (what is refit and exported). */
export function resolveStack(stack: Recipe, recipes: readonly Recipe[], weights: readonly number[]): Recipe {
  const bases = stackBases(stack, recipes);
  const { stackOf: _s, ...rest } = stack;
  return {
    ...rest,
    description: `${stack.description}; weights ${bases.map((b, i) => `${b.name} ${(weights[i] ?? 0).toFixed(1)}`).join(', ')}`,
    parts: bases.flatMap((b, i) => b.parts.map((p) => ({ ...p, weight: p.weight * (weights[i] ?? 0) }))),
  };
}

/** A stack recipe over `names`: its parts are theirs (weights fitted later). */
export function stackRecipe(
  name: string,
  description: string,
  names: readonly string[],
  recipes: readonly Recipe[],
): Recipe {
  const parts = names.flatMap((n) => {
    const r = recipes.find((x) => x.name === n);
    if (!r) throw new Error(`no candidate named ${n} to stack`);
    return r.parts;
  });
  return { name, description, parts, stackOf: [...names] };
}

/** The fold trainer cross-validation calls: every recipe's scores on the fold's test songs. */
export function fitFold(recipes: readonly Recipe[], seed: number): (fold: CvFold) => Promise<FoldFit> {
  return async (fold) => {
    const scaler = fitScaler(featureMatrix(fold.train), fold.train.length, IN);
    const train = matricesOf(fold.train, scaler);
    const val = matricesOf(fold.validation, scaler);
    const test = matricesOf(fold.test, scaler);
    const trained = await trainRecipes(recipes, train, val, seed);
    const scores: Record<string, Float32Array> = {};
    const epochs: Record<string, number[]> = {};
    const stackWeights: Record<string, number[]> = {};
    for (const r of recipes) {
      epochs[r.name] = r.parts.flatMap((p) => partMembers(p, trained, seed).map((m) => m.bestEpoch));
      if (r.stackOf) {
        // Weights fitted on the fold's inner validation songs, then applied to its test songs.
        const bases = stackBases(r, recipes);
        const w = fitStackWeights(
          bases.map((b) => recipeLogits(b, trained, seed, train, val.x, val.rows)),
          val.y,
          val.rows,
        );
        stackWeights[r.name] = w;
        scores[r.name] = recipeLogits(resolveStack(r, recipes, w), trained, seed, train, test.x, test.rows);
      } else scores[r.name] = recipeLogits(r, trained, seed, train, test.x, test.rows);
    }
    return { scores, epochs, ...(Object.keys(stackWeights).length > 0 ? { stackWeights } : {}) };
  };
}

/**
 * Epochs for the refit per distinct setting: the median best epoch over all folds and members, scaled by
 * nothing (an epoch over all songs is more steps than one over a fold's: the median is the conservative count).
 */
export function refitEpochs(recipe: Recipe, folds: readonly FoldRecord[]): Map<string, number> {
  const out = new Map<string, number>();
  let offset = 0;
  for (const part of recipe.parts) {
    const values = folds
      .flatMap((f) => (f.epochs[recipe.name] ?? []).slice(offset, offset + part.params.members))
      .sort((a, b) => a - b);
    offset += part.params.members;
    const mid = values.length > 0 ? (values[Math.floor((values.length - 1) / 2)] as number) : part.params.maxEpochs;
    out.set(paramsKey(part.params), Math.max(1, mid));
  }
  return out;
}

// ---- folding a recipe into one relu Dense stack ----

/** Hidden layers with a linear activation become ± relu pairs (relu(z) − relu(−z) = z): exact, relu only. */
function reluOnly(w: DenseWeights): DenseLayerWeights[] {
  const layers = w.layers.map((l) => ({ ...l }));
  for (let li = 0; li < layers.length - 1; li++) {
    const l = layers[li] as DenseLayerWeights;
    if (l.activation !== 'linear') continue;
    const u = l.units;
    const kernel = new Float32Array(l.inputs * 2 * u);
    for (let i = 0; i < l.inputs; i++)
      for (let j = 0; j < u; j++) {
        const v = l.kernel[i * u + j] as number;
        kernel[i * 2 * u + j] = v;
        kernel[i * 2 * u + u + j] = -v;
      }
    const bias = new Float32Array(2 * u);
    for (let j = 0; j < u; j++) {
      bias[j] = l.bias[j] as number;
      bias[u + j] = -(l.bias[j] as number);
    }
    layers[li] = { inputs: l.inputs, units: 2 * u, kernel, bias, activation: 'relu' };
    const n = layers[li + 1] as DenseLayerWeights;
    const nk = new Float32Array(2 * u * n.units);
    for (let i = 0; i < u; i++)
      for (let j = 0; j < n.units; j++) {
        const v = n.kernel[i * n.units + j] as number;
        nk[i * n.units + j] = v;
        nk[(u + i) * n.units + j] = -v;
      }
    layers[li + 1] = { ...n, inputs: 2 * u, kernel: nk };
  }
  return layers;
}

function identityLayer(units: number): DenseLayerWeights {
  const kernel = new Float32Array(units * units);
  for (let i = 0; i < units; i++) kernel[i * units + i] = 1;
  return { inputs: units, units, kernel, bias: new Float32Array(units), activation: 'relu' };
}

/** Pads a member to `depth` layers: a network without hidden layers first reads its inputs as ± relu pairs. */
function padTo(layers: DenseLayerWeights[], depth: number): DenseLayerWeights[] {
  let out = layers;
  if (out.length === 1 && depth > 1) {
    const o = out[0] as DenseLayerWeights;
    const n = o.inputs;
    const k = new Float32Array(n * 2 * n);
    for (let i = 0; i < n; i++) {
      k[i * 2 * n + i] = 1;
      k[i * 2 * n + n + i] = -1;
    }
    const split: DenseLayerWeights = {
      inputs: n,
      units: 2 * n,
      kernel: k,
      bias: new Float32Array(2 * n),
      activation: 'relu',
    };
    const ok = new Float32Array(2 * n * o.units);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < o.units; j++) {
        ok[i * o.units + j] = o.kernel[i * o.units + j] as number;
        ok[(n + i) * o.units + j] = -(o.kernel[i * o.units + j] as number);
      }
    out = [split, { ...o, inputs: 2 * n, kernel: ok }];
  }
  while (out.length < depth) {
    const last = out[out.length - 1] as DenseLayerWeights;
    out = [...out.slice(0, -1), identityLayer(last.inputs), last];
  }
  return out;
}

/**
 * Σ weight_i · logit_i of networks of any shapes as ONE Dense stack: hidden layers side by side (first layer
 * concatenated, deeper ones block-diagonal), output rows stacked and scaled by each weight.
 */
export function foldWeighted(all: readonly { weights: DenseWeights; weight: number }[]): DenseWeights {
  const withTrees = all.filter((m) => m.weights.trees);
  const trees =
    withTrees.length > 0
      ? { trees: concatTrees(withTrees.map((m) => ({ trees: m.weights.trees as TreeEnsemble, weight: m.weight }))) }
      : {};
  const members = all.filter((m) => m.weights.layers.length > 0);
  const first = members[0];
  // Trees alone: a zero Dense output layer carries the sigmoid (the stack format needs one layer).
  if (!first && withTrees.length > 0)
    return {
      layers: [
        { inputs: IN, units: K, kernel: new Float32Array(IN * K), bias: new Float32Array(K), activation: 'sigmoid' },
      ],
      inputSize: IN,
      outputSize: K,
      ...trees,
    };
  if (!first) throw new Error('a recipe needs at least one network');
  const relu = members.map((m) => reluOnly(m.weights));
  const depth = Math.max(...relu.map((l) => l.length));
  const padded = relu.map((l) => padTo(l, depth));
  const layers: DenseLayerWeights[] = [];
  for (let li = 0; li < depth; li++) {
    const isFirst = li === 0;
    const isLast = li === depth - 1;
    const inputs = isFirst
      ? first.weights.inputSize
      : padded.reduce((a, p) => a + (p[li] as DenseLayerWeights).inputs, 0);
    const units = isLast
      ? first.weights.outputSize
      : padded.reduce((a, p) => a + (p[li] as DenseLayerWeights).units, 0);
    const kernel = new Float32Array(inputs * units);
    const bias = new Float32Array(units);
    let rowOffset = 0;
    let colOffset = 0;
    padded.forEach((p, k) => {
      const l = p[li] as DenseLayerWeights;
      const scale = isLast ? (members[k]?.weight ?? 0) : 1;
      const r0 = isFirst ? 0 : rowOffset;
      const c0 = isLast ? 0 : colOffset;
      for (let i = 0; i < l.inputs; i++)
        for (let j = 0; j < l.units; j++) {
          const dst = (r0 + i) * units + c0 + j;
          kernel[dst] = (kernel[dst] as number) + (l.kernel[i * l.units + j] as number) * scale;
        }
      for (let j = 0; j < l.units; j++) bias[c0 + j] = (bias[c0 + j] as number) + (l.bias[j] as number) * scale;
      rowOffset += l.inputs;
      colOffset += l.units;
    });
    layers.push({ inputs, units, kernel, bias, activation: isLast ? 'sigmoid' : 'relu' });
  }
  return { layers, inputSize: first.weights.inputSize, outputSize: first.weights.outputSize, ...trees };
}

/** The recipe as one stack (standardised inputs, sigmoid of Σ weight · mean member logit, before shifts). */
export function foldRecipe(recipe: Recipe, trained: ReadonlyMap<string, TrainedMember>, seed: number): DenseWeights {
  return foldWeighted(
    recipe.parts.flatMap((part) =>
      partMembers(part, trained, seed).map((m) => ({
        weights: m.transform ? prependTransform(m.transform, m.weights) : m.weights,
        weight: part.weight / part.params.members,
      })),
    ),
  );
}

/** Σ weight · shift per country: the part of the recipe's logit that the folded stack leaves to calibration. */
export function recipeShift(recipe: Recipe, y: Float32Array, rows: number): number[] {
  const out = new Array<number>(K).fill(0);
  for (const part of recipe.parts) {
    logitShift(y, rows, part.params).forEach((s, c) => {
      out[c] = (out[c] as number) + part.weight * s;
    });
  }
  return out;
}

/** Trees a tree part is sized at before training (early stopping picks 100–400 at learning rate 0.05). */
const NOMINAL_TREES = 200;

/** Parameters the recipe's networks really have (no block-diagonal zeros). */
export function recipeParameters(recipe: Recipe): number {
  return recipe.parts.reduce((a, part) => {
    const t = part.params.trees;
    // Trees: a leaf value per country and a threshold per split, at a nominal count (the count is learned).
    if (t) return a + part.params.members * NOMINAL_TREES * (2 ** t.depth * K + 2 ** t.depth);
    let n = 0;
    let prev: number = IN;
    for (const u of [...part.params.hidden, K]) {
      n += prev * u + u;
      prev = u;
    }
    // A quantile transform: a knot and a slope per knot and feature.
    if (part.params.inputTransform === 'quantile') n += 2 * QUANTILE_KNOTS * IN;
    // Engineered features: a knot and a slope per curve point (at most 12 duration, 6 tempo, 12 key, 2 others).
    if (part.params.inputTransform === 'features') n += 2 * (12 + 6 + 12 + 2 * (IN - 3));
    return a + n * part.params.members;
  }, 0);
}

export function foldScalerFor(songs: readonly Song[]): Scaler {
  return fitScaler(featureMatrix(songs), songs.length, IN);
}

/**
 * The boosted trees' settings (screened on the first repeat's 5 folds, 2026-12-04): depth 4, learning rate
 * 0.05, λ 3, ≥ 15 songs per side, 32 bins, 80 % of songs and 70 % of features per tree, softmax term 1, early
 * stopping on validation then grown again on train + validation with 1.15 × the trees.
 */
export const BOOSTED_TREES: BoostedTreeParams = {
  depth: 4,
  learningRate: 0.05,
  lambda: 3,
  minLeaf: 15,
  bins: 32,
  rowSample: 0.8,
  featureSample: 0.7,
  softmaxWeight: 1,
  maxTrees: 1500,
  patience: 200,
  refitOnValidation: 1.15,
};

/** Rank of the shared low-rank model's bottleneck (countries share 8 directions in feature space). */
export const LOW_RANK = 8;

/**
 * The candidates every run cross-validates: the configured network, the same with more members, logistic
 * regression, their blend (the network ranks across countries better, logistic often within a country), and a
 * low-rank multi-task model (one linear bottleneck shared by all countries, trained with the network's loss),
 * the network and logistic regression on quantile-transformed inputs, and two learned stacks (weights fitted on
 * held-out scores, not fixed).
 */
export function defaultRecipes(model: PartParams, logistic: PartParams, moreMembers = 5): Recipe[] {
  const recipes: Recipe[] = [
    {
      name: 'network',
      description: `the configured network (${model.members} members)`,
      parts: [{ params: model, weight: 1 }],
    },
    { name: 'logistic', description: 'logistic regression per country', parts: [{ params: logistic, weight: 1 }] },
    {
      name: 'blend',
      description: 'mean of the network’s and logistic regression’s logits',
      parts: [
        { params: model, weight: 0.5 },
        { params: logistic, weight: 0.5 },
      ],
    },
    {
      name: 'low-rank',
      description: `shared rank-${LOW_RANK} linear bottleneck, network loss, ${model.members} members`,
      parts: [{ params: { ...model, hidden: [LOW_RANK], hiddenActivation: 'linear', dropout: 0 }, weight: 1 }],
    },
  ];
  recipes.push({
    name: 'network-regularised',
    description: 'the network with dropout 0.4, L2 5e-4, softmax weight 0.1 (best screened settings, 2026-11-23)',
    parts: [{ params: { ...model, dropout: 0.4, l2: 5e-4, softmaxWeight: 0.1 }, weight: 1 }],
  });
  if (moreMembers > model.members) {
    recipes.push({
      name: `network-${moreMembers}`,
      description: `the configured network with ${moreMembers} members`,
      parts: [{ params: { ...model, members: moreMembers }, weight: 1 }],
    });
  }
  recipes.push(
    {
      name: 'network-quantile',
      description: `the configured network on quantile-transformed inputs (monotone, fitted on the training songs)`,
      parts: [{ params: { ...model, inputTransform: 'quantile' }, weight: 1 }],
    },
    {
      name: 'logistic-quantile',
      description: 'logistic regression on quantile-transformed inputs (a monotone curve per feature)',
      parts: [{ params: { ...logistic, inputTransform: 'quantile' }, weight: 1 }],
    },
  );
  // Boosted trees (4 members from their own seeds), alone and with the network: the trees rank within a country
  // better, the network's softmax term across countries (screened 2026-12-04, README "Boosted trees").
  const trees: PartParams = {
    ...model,
    hidden: [],
    dropout: 0,
    positiveWeighting: 'none',
    softmaxWeight: 0,
    members: 4,
    trees: BOOSTED_TREES,
  };
  recipes.push(
    {
      name: 'boosted-trees',
      description: 'gradient-boosted trees, one tree for all countries (4 members)',
      parts: [{ params: trees, weight: 1 }],
    },
    {
      name: 'trees-network',
      description: `0.7 × boosted trees (4 members) + 0.3 × the configured network (${model.members} members), logits`,
      parts: [
        { params: trees, weight: 0.7 },
        { params: model, weight: 0.3 },
      ],
    },
  );
  // Plain ensembles of parts the list already trains: they train nothing new in a fold (networks are shared
  // by setting and seed), fold into one Dense stack like any recipe, and cost 2–3× the network on the device.
  const regularised = (recipes.find((r) => r.name === 'network-regularised') as Recipe).parts[0] as RecipePart;
  const quantile = (recipes.find((r) => r.name === 'network-quantile') as Recipe).parts[0] as RecipePart;
  recipes.push(
    {
      name: 'ensemble-2',
      description: `mean logit of network-regularised and network-quantile (${2 * model.members} networks)`,
      parts: [regularised, quantile].map((p) => ({ params: p.params, weight: 1 / 2 })),
    },
    {
      name: 'ensemble-3',
      description: `mean logit of network, network-regularised and network-quantile (${3 * model.members} networks)`,
      parts: [model, regularised.params, quantile.params].map((params) => ({ params, weight: 1 / 3 })),
    },
  );
  recipes.push(
    stackRecipe(
      'stack',
      'learned stack of network and logistic (weights fitted on held-out scores)',
      ['network', 'logistic'],
      recipes,
    ),
    stackRecipe(
      'stack-4',
      'learned stack of network, logistic, network-quantile and logistic-quantile',
      ['network', 'logistic', 'network-quantile', 'logistic-quantile'],
      recipes,
    ),
  );
  return recipes;
}

/**
 * Candidates tried beside the default list (`explore-cv.ts`), not cross-validated by every pipeline run: the
 * wide regularised network, label smoothing, more quantile members, the two best single changes combined,
 * an ensemble with the wide network, and one network distilled from `ensemble-3` (in the default list). Results and why each is
 * or is not in `defaultRecipes`: `README.md`, "Candidates tried 2026-12-03".
 */
export function explorationRecipes(model: PartParams): Recipe[] {
  const regularised: PartParams = { ...model, dropout: 0.4, l2: 5e-4, softmaxWeight: 0.1 };
  const quantile: PartParams = { ...model, inputTransform: 'quantile' };
  const wide: PartParams = { ...regularised, hidden: [256, 128] };
  const ensemble3: RecipePart[] = [model, regularised, quantile].map((params) => ({ params, weight: 1 / 3 }));
  return [
    {
      name: 'network-wide',
      description: 'hidden [256,128], dropout 0.4, L2 5e-4, softmax weight 0.1 (screened +0.0097, 2026-11-23)',
      parts: [{ params: wide, weight: 1 }],
    },
    {
      name: 'network-smooth',
      description: 'the network with labels smoothed toward each country’s base rate (ε 0.1)',
      parts: [{ params: { ...model, labelSmoothing: 0.1 }, weight: 1 }],
    },
    {
      name: 'network-quantile-5',
      description: 'network-quantile with 5 members',
      parts: [{ params: { ...quantile, members: 5 }, weight: 1 }],
    },
    {
      name: 'regularised-quantile',
      description: 'network-regularised’s settings on quantile-transformed inputs',
      parts: [{ params: { ...regularised, inputTransform: 'quantile' }, weight: 1 }],
    },
    {
      name: 'network-features',
      description: 'the network on engineered inputs: log duration, tempo folded to 60–120 BPM, circle-of-fifths key',
      parts: [{ params: { ...model, inputTransform: 'features' }, weight: 1 }],
    },
    {
      name: 'ensemble-4',
      description: 'mean logit of network, network-regularised, network-quantile and network-wide (12 networks)',
      parts: [model, regularised, quantile, wide].map((params) => ({ params, weight: 1 / 4 })),
    },
    {
      name: 'distilled',
      description: 'the network’s shape (3 members, unweighted BCE) trained on ensemble-3’s probabilities',
      parts: [
        {
          params: {
            ...model,
            positiveWeighting: 'none',
            softmaxWeight: 0,
            distillFrom: { name: 'ensemble-3', parts: ensemble3 },
          },
          weight: 1,
        },
      ],
    },
  ];
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** Two recipes train the same networks and combine them the same way. */
export const sameRecipe = (a: Pick<Recipe, 'parts'>, b: Pick<Recipe, 'parts'>) =>
  canonical(a.parts) === canonical(b.parts);

/**
 * Production's recipe from its manifest's lineage: `parameters.recipe` (written since cross-validation), else
 * `parameters.model` as one network part (older manifests). Null when neither reads as network settings.
 */
export function productionRecipe(parameters: unknown): Pick<Recipe, 'parts'> | null {
  const p = parameters as { recipe?: { parts?: unknown }; model?: unknown } | undefined;
  const isParams = (v: unknown): v is PartParams =>
    !!v &&
    typeof v === 'object' &&
    Array.isArray((v as PartParams).hidden) &&
    typeof (v as PartParams).members === 'number' &&
    typeof (v as PartParams).learningRate === 'number';
  const parts = p?.recipe?.parts;
  if (Array.isArray(parts) && parts.every((x) => isParams(x?.params) && typeof x?.weight === 'number'))
    return { parts: parts as RecipePart[] };
  if (isParams(p?.model)) return { parts: [{ params: p.model, weight: 1 }] };
  return null;
}
