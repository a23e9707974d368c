import { beforeAll, describe, expect, it } from 'vitest';
import { macsPerSong } from '../runtime/dense-structure.ts';
import { randomDenseNet } from '../testing/random-dense.ts';
import { useBackend } from './backend.ts';
import {
  defaultRecipes,
  fitStackWeights,
  foldRecipe,
  foldWeighted,
  logitsOf,
  type PartParams,
  type Recipe,
  recipeLogits,
  recipeParameters,
  recipeShift,
  refitEpochs,
  resolveStack,
  stackRecipe,
  trainRecipes,
} from './candidates.ts';
import { mulberry32 } from './prng.ts';

describe('recipes folded into one relu stack', () => {
  it('computes Σ weight · logit of networks of different depths and activations exactly', () => {
    const nets = [
      { weights: randomDenseNet([16, 8], 1, 'relu'), weight: 0.25 },
      { weights: randomDenseNet([16, 8], 2, 'relu'), weight: 0.25 },
      { weights: randomDenseNet([], 3, 'relu'), weight: 0.3 }, // logistic regression
      { weights: randomDenseNet([4], 4, 'linear'), weight: 0.2 }, // low rank
    ];
    const folded = foldWeighted(nets);
    expect(folded.layers.map((l) => l.activation)).toEqual(['relu', 'relu', 'sigmoid']);
    // hidden 1: 16 + 16 + 26 (± inputs) + 8 (± rank 4); hidden 2: 8 + 8 + 26 + 8 (identity pass-through)
    expect(folded.layers.map((l) => l.units)).toEqual([66, 50, 72]);
    const r = mulberry32(9);
    const rows = 20;
    const x = Float32Array.from({ length: rows * 13 }, () => (r() - 0.5) * 6);
    const got = logitsOf(folded, x, rows);
    const want = new Float64Array(rows * 72);
    for (const n of nets) {
      const z = logitsOf(n.weights, x, rows);
      for (let i = 0; i < z.length; i++) want[i] = (want[i] as number) + n.weight * (z[i] as number);
    }
    let max = 0;
    for (let i = 0; i < want.length; i++) max = Math.max(max, Math.abs((got[i] as number) - (want[i] as number)));
    expect(max).toBeLessThan(1e-5);
  });

  it('counts the real parameters of a recipe, without block-diagonal zeros', () => {
    const p = { hidden: [128, 64], members: 3 } as never;
    expect(recipeParameters({ name: 'n', description: '', parts: [{ params: p, weight: 1 }] })).toBe(
      3 * (13 * 128 + 128 + 128 * 64 + 64 + 64 * 72 + 72),
    );
  });
});

describe('learned stack', () => {
  const rows = 300;
  const r = mulberry32(5);
  const y = new Float32Array(rows * 72);
  for (let i = 0; i < rows; i++) y[i * 72 + Math.floor(r() * 72)] = 1;
  const noise = () => Float32Array.from({ length: rows * 72 }, () => r() * 4 - 2);
  const signal = (strength: number) => {
    const n = noise();
    return n.map((v, i) => v + strength * (y[i] as number));
  };

  it('puts the weight on the recipe that ranks, not on a fixed half', () => {
    expect(fitStackWeights([noise(), signal(3)], y, rows)[1]).toBeGreaterThanOrEqual(0.8);
    expect(fitStackWeights([signal(3), noise()], y, rows)[0]).toBeGreaterThanOrEqual(0.8);
  });

  it('mixes two recipes whose errors are independent', () => {
    const w = fitStackWeights([signal(1.5), signal(1.5)], y, rows);
    expect(w[0]).toBeGreaterThan(0);
    expect(w[1]).toBeGreaterThan(0);
    expect((w[0] as number) + (w[1] as number)).toBeCloseTo(1, 10);
  });

  it('resolves to the named recipes’ parts, scaled by the fitted weights', () => {
    const a = { hidden: [8], members: 2 } as never;
    const b = { hidden: [], members: 1 } as never;
    const recipes = [
      { name: 'a', description: '', parts: [{ params: a, weight: 1 }] },
      { name: 'b', description: '', parts: [{ params: b, weight: 1 }] },
    ];
    const stack = stackRecipe('s', 'stack', ['a', 'b'], recipes);
    expect(recipeParameters(stack)).toBe(recipeParameters(recipes[0] as never) + recipeParameters(recipes[1] as never));
    const resolved = resolveStack(stack, recipes, [0.3, 0.7]);
    expect(resolved.stackOf).toBeUndefined();
    expect(resolved.parts.map((p) => p.weight)).toEqual([0.3, 0.7]);
  });
});

/**
 * Toy rows: 13 inputs in ±1.5, each row charted in country 0 or 1 by its first input's sign, moved by 2 × one of
 * `spread` steps when given (so more than two countries have positives).
 */
function toyRows(rows: number, seed: number, spread = 0) {
  const r = mulberry32(seed);
  const x = Float32Array.from({ length: rows * 13 }, () => (r() - 0.5) * 3);
  const y = new Float32Array(rows * 72);
  for (let i = 0; i < rows; i++) {
    y[i * 72 + ((x[i * 13] as number) > 0 ? 0 : 1) + (spread > 0 ? 2 * Math.floor(r() * spread) : 0)] = 1;
  }
  return { rows, x, y };
}

/** Part settings with no regularisation or weighting; the test names what it varies. */
const toyParams = (
  p: Pick<PartParams, 'hidden' | 'learningRate' | 'maxEpochs' | 'patience' | 'members'>,
): PartParams => ({
  dropout: 0,
  l2: 0,
  batchSize: 32,
  positiveWeighting: 'none',
  maxPositiveWeight: 1,
  softmaxWeight: 0,
  ...p,
});

describe('distillation', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });
  const { rows, x, y } = toyRows(160, 21);
  const base = toyParams({ hidden: [], learningRate: 0.05, maxEpochs: 60, patience: 100, members: 1 });
  // A teacher that barely trained (1 epoch, tiny steps): its probabilities are far from the labels.
  const teacher = { name: 'teacher', parts: [{ params: { ...base, maxEpochs: 1, learningRate: 1e-4 }, weight: 1 }] };
  const student: Recipe = {
    name: 'student',
    description: '',
    parts: [{ params: { ...base, distillFrom: teacher }, weight: 1 }],
  };

  it('trains the student on the teacher’s probabilities, not on the labels', async () => {
    const data = { x, y, rows };
    const trained = await trainRecipes([student], data, data, 3);
    const zs = recipeLogits(student, trained, 3, data, x, rows);
    const zt = recipeLogits({ ...teacher, description: '' }, trained, 3, data, x, rows);
    let far = 0;
    let near = 0;
    for (let i = 0; i < zs.length; i++) {
      near = Math.max(near, Math.abs((zs[i] as number) - (zt[i] as number)));
      // Trained on the labels, country 0's logit would follow the sign of feature 0.
      if (i % 72 === 0) far = Math.max(far, Math.abs(zt[i] as number));
    }
    expect(near).toBeLessThan(0.5);
    expect(far).toBeLessThan(1.5);
  }, 60_000);

  it('refuses the refit (fixed epochs) before training anything', async () => {
    const data = { x, y, rows };
    await expect(trainRecipes([student], data, null, 3, new Map([['x', 1]]))).rejects.toThrow(/cross-validation only/);
  });
});

describe('ensembles in the default list', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });
  const { rows, x, y } = toyRows(120, 33, 3);
  const net = toyParams({ hidden: [4], learningRate: 0.01, maxEpochs: 2, patience: 5, members: 2 });
  const recipes = defaultRecipes(net, { ...net, hidden: [], members: 1 }, 0);
  const named = (n: string) => recipes.find((x) => x.name === n) as Recipe;

  it('trains no network of their own and scores as the mean of their parts’ logits', async () => {
    expect(recipes.map((x) => x.name)).toEqual(expect.arrayContaining(['ensemble-2', 'ensemble-3']));
    const data = { x, y, rows };
    const trained = await trainRecipes(recipes, data, data, 7);
    // network, low-rank, network-regularised, network-quantile: 2 members each; boosted trees: 4; logistic,
    // logistic-quantile: 1.
    expect(trained.size).toBe(4 * 2 + 4 + 2);
    const z = (n: string) => recipeLogits(named(n), trained, 7, data, x, rows);
    const [e2, e3, reg, q, n] = ['ensemble-2', 'ensemble-3', 'network-regularised', 'network-quantile', 'network'].map(
      z,
    );
    let max = 0;
    for (let i = 0; i < rows * 72; i++) {
      const [a, b, c] = [reg?.[i] as number, q?.[i] as number, n?.[i] as number];
      max = Math.max(max, Math.abs((e2?.[i] as number) - (a + b) / 2), Math.abs((e3?.[i] as number) - (a + b + c) / 3));
    }
    expect(max).toBeLessThan(1e-5);
    expect(recipeParameters(named('ensemble-3'))).toBe(
      recipeParameters(named('network')) +
        recipeParameters(named('network-regularised')) +
        recipeParameters(named('network-quantile')),
    );

    // What the refit exports: every member folded into one block-diagonal stack (quantile knot layer in front
    // of its members), whose logits plus the recipe's shift are the ensemble's logits.
    // The folded stack's logits plus the recipe's shift, against the recipe's own logits.
    const foldedGap = (name: string, expected: Float32Array | undefined) => {
      const got = logitsOf(foldRecipe(named(name), trained, 7), x, rows);
      const shift = recipeShift(named(name), y, rows);
      let diff = 0;
      for (let i = 0; i < got.length; i++)
        diff = Math.max(diff, Math.abs((got[i] as number) + (shift[i % 72] as number) - (expected?.[i] as number)));
      return diff;
    };
    const folded = foldRecipe(named('ensemble-3'), trained, 7);
    expect(foldedGap('ensemble-3', e3)).toBeLessThan(1e-4);
    // The structured kernels skip the block-diagonal zeros: fewer multiply-adds than the dense stack.
    const macs = macsPerSong(folded);
    expect(macs.structured).toBeLessThan(macs.dense);

    // Trees with the network: 0.7 × the trees' logits + 0.3 × the network's, and the folded stack with its
    // trees beside it computes exactly that.
    const [tn, bt] = ['trees-network', 'boosted-trees'].map(z);
    let mix = 0;
    for (let i = 0; i < rows * 72; i++)
      mix = Math.max(mix, Math.abs((tn?.[i] as number) - 0.7 * (bt?.[i] as number) - 0.3 * (n?.[i] as number)));
    expect(mix).toBeLessThan(1e-5);
    expect(foldRecipe(named('trees-network'), trained, 7).trees?.roots.length).toBeGreaterThan(2);
    expect(foldedGap('trees-network', tn)).toBeLessThan(1e-4);
  }, 120_000);

  it('keeps the validation songs out of the trees when the caller calibrates on them', async () => {
    const data = { x, y, rows };
    const trees = named('boosted-trees');
    const counts = (m: Map<string, { bestEpoch: number }>) => [...m.values()].map((t) => t.bestEpoch);
    const held = counts(await trainRecipes([trees], data, data, 7, undefined, { validationHeldOut: true }));
    const grown = counts(await trainRecipes([trees], data, data, 7));
    // Held out: the early-stopped count (checked every 10 trees); otherwise grown again with 1.15 × as many.
    for (const c of held) expect(c % 10).toBe(0);
    expect(grown).toEqual(held.map((c) => Math.round(c * 1.15)));
  }, 120_000);

  it('refits each part for its own median best epoch', () => {
    const e = refitEpochs(named('ensemble-2'), [
      { epochs: { 'ensemble-2': [3, 5, 9, 11] } },
      { epochs: { 'ensemble-2': [4, 6, 10, 12] } },
    ] as never);
    expect([...e.values()]).toEqual([4, 10]);
  });
});
