import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelCardSchema } from '../contract/model-card.ts';
import { DATASET_CREDIT, explicitParity, type ModelCard, renderCardMarkdown } from './card.ts';

describe('model card', () => {
  it('computes the statistical parity difference of top-5 countries between explicit and other songs', () => {
    const k = 72;
    const rows = 4;
    const raw = new Float32Array(rows * 13);
    raw[0] = 1; // song 0 explicit
    raw[13] = 1; // song 1 explicit
    const p = new Float32Array(rows * k);
    for (let r = 0; r < rows; r++) {
      // Explicit songs rank countries 0–4 highest, the others countries 10–14.
      const first = r < 2 ? 0 : 10;
      for (let c = 0; c < 5; c++) p[r * k + first + c] = 0.9 - c * 0.01;
    }
    const f = explicitParity(p, raw, rows);
    expect(f.explicitSongs).toBe(2);
    expect(f.nonExplicitSongs).toBe(2);
    expect(f.maxAbsSpd).toBe(1);
    expect(f.maxAbsSpdCountry).toBe('AE');
    expect(f.meanAbsSpd).toBeCloseTo(10 / 72, 12);
    expect(explicitParity(p.slice(0, 2 * k), raw.slice(0, 26), 2).maxAbsSpd).toBeNull();
  });

  it('renders the credit, hashes, metrics with baselines, calibration and fairness in Markdown', () => {
    const m = { macroAuc: 0.75, microAuc: 0.8, top5Hit: 0.45, precisionAt5: 0.1, recallAt5: 0.4, brier: 0.02 };
    const card: ModelCard = {
      model: {
        version: 'vabc',
        createdAt: '2026-11-23T09:00:00.000Z',
        architecture: { hidden: [8], activation: 'relu', parameters: 700 },
        parameters: 700,
      },
      provenance: {
        dataset: DATASET_CREDIT,
        files: [{ name: 'charts-2023.csv', sha256: 'f'.repeat(64), rows: 10 }],
        trainedBy: 'the pipeline',
        codeCommit: 'abc',
        runId: 'r1',
        seed: 42,
      },
      data: {
        validation: {
          files: 1,
          rowsRead: 10,
          rowsKept: 9,
          globalChartRows: 1,
          exactDuplicateRows: 1,
          songsWithConflictingFeatures: 0,
          rowsWithFeaturesReplaced: 0,
          rules: ['rule one'],
        },
        songs: { train: 7, validation: 1, test: 1, globalOnly: 0 },
        splitRule: 'by song',
      },
      training: {
        settings: { members: 2, hidden: [4] },
        calibration: { a: 0.5, b: -1, validation: { before: { ...m, brier: 0.05 }, after: m } },
        runs: { model: { networks: 2, bestEpochs: [3, 4], epochsRun: 9, validationMacroAuc: 0.7 } },
      },
      metrics: {
        split: 'test',
        songs: 1,
        rows: { model: m, logistic: { ...m, macroAuc: 0.7 } },
        bootstrap: {
          intervals: { model: { lo: 0.72, hi: 0.78 }, logistic: { lo: 0.67, hi: 0.73 } },
          differences: { model: { lo: 0.01, hi: 0.09 } },
        },
      },
      calibration: [{ lo: 0, hi: 0.1, count: 3, meanPredicted: 0.05, observedRate: 0.04 }],
      fairness: {
        description: 'spd',
        explicitSongs: 1,
        nonExplicitSongs: 2,
        maxAbsSpd: 0.2,
        maxAbsSpdCountry: 'DE',
        meanAbsSpd: 0.01,
      },
      gate: { passed: true, checks: [{ passed: true, message: 'beats logistic' }] },
      parity: { maxAbsDiff: 1e-7, rows: 1, tolerance: 1e-5, passed: true },
      intendedUse: 'use',
      limits: ['limit'],
    };
    const md = renderCardMarkdown(card);
    expect(md).toContain('Top Spotify Songs in 73 Countries (Daily Updated)');
    expect(md).toContain('asaniczka');
    expect(md).toContain('f'.repeat(64));
    expect(md).toMatch(/\| model \| 0\.7500 \| 0\.8000 \| 0\.4500 /);
    expect(md).toMatch(/\| logistic \| 0\.7000 /);
    expect(md).toMatch(/\| 0\.0–0\.1 \| 3 \| 0\.0500 \| 0\.0400 \|/);
    expect(md).toMatch(/0\.2000 \(DE\)/);
    expect(md).toMatch(/average of 2 networks/);
    expect(md).toMatch(
      /model \[0\.7200, 0\.7800\], minus logistic \[0\.0100, 0\.0900\]; logistic \[0\.6700, 0\.7300\]/,
    );
    expect(md).toMatch(/sigmoid\(0\.5000 · \(logit − log w_c\) − 1\.0000\)/);
    expect(md).toMatch(/Brier 0\.0500 → 0\.0200/);
    expect(md).toMatch(/- model: 2 network\(s\), best epochs 3, 4/);
  });
});

describe('model card contract', () => {
  it('the bundled card.json parses with the contract schema; one without its fairness line or for a bad version does not', () => {
    const card: unknown = JSON.parse(
      readFileSync(join(import.meta.dirname, '../../public/models/default/card.json'), 'utf8'),
    );
    const r = ModelCardSchema.safeParse(card);
    expect(r.success).toBe(true);
    const { fairness: _, ...noFairness } = card as Record<string, unknown>;
    expect(ModelCardSchema.safeParse(noFairness).success).toBe(false);
    const badVersion = {
      ...(card as Record<string, unknown>),
      model: { ...(card as { model: object }).model, version: '../x' },
    };
    expect(ModelCardSchema.safeParse(badVersion).success).toBe(false);
  });
});
