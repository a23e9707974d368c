/**
 * Evaluation metrics for tests of code that compares models (gate, runs): only macro AUC varies, the rest are fixed
 * plausible values.
 */
import type { Metrics } from '../contract/index.ts';

export const metricsWithMacroAuc = (macroAuc: number): Metrics => ({
  macroAuc,
  microAuc: 0.8,
  top5Hit: 0.4,
  precisionAt5: 0.2,
  recallAt5: 0.3,
  brier: 0.1,
});
