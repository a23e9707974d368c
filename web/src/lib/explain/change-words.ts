/**
 * A suggested change in plain words: "a bit more danceable: 0.62 → 0.71", "louder: −8.1 dB → −5.9 dB",
 * "in a major key". How much ("a bit", "", "much") is judged in reference standard deviations, so it means
 * the same for tempo and for valence.
 */
import { FEATURE_NAMES, type FeatureName } from '../../../../model/contract/features.ts';
import { formatValue } from '../ui/feature-format.ts';
import type { Change } from './counterfactual.ts';

const WORDS: Partial<Record<FeatureName, readonly [up: string, down: string]>> = {
  duration_ms: ['longer', 'shorter'],
  danceability: ['more danceable', 'less danceable'],
  energy: ['more energetic', 'calmer'],
  loudness: ['louder', 'quieter'],
  speechiness: ['more spoken words', 'fewer spoken words'],
  acousticness: ['more acoustic', 'less acoustic'],
  instrumentalness: ['more instrumental', 'more vocal'],
  liveness: ['more live-sounding', 'less live-sounding'],
  valence: ['happier', 'sadder'],
  tempo: ['faster', 'slower'],
};

/** How far, in reference standard deviations: under 0.5 "a bit", over 1.5 "much". */
function degree(delta: number, std: number): string {
  const z = std > 0 ? Math.abs(delta) / std : 1;
  return z < 0.5 ? 'a bit ' : z > 1.5 ? 'much ' : '';
}

export function describeChange(c: Change, std: number): string {
  const name = FEATURE_NAMES[c.feature]!;
  const values = `${formatValue(name, c.from)} → ${formatValue(name, c.to)}`;
  if (name === 'mode') return `in a ${c.to >= 0.5 ? 'major' : 'minor'} key`;
  if (name === 'key') return `in another key: ${values}`;
  if (name === 'is_explicit') return `${c.to >= 0.5 ? 'explicit' : 'clean'} lyrics`;
  const words = WORDS[name];
  if (!words) return `${name}: ${values}`;
  const up = c.to > c.from;
  return `${degree(c.to - c.from, std)}${up ? words[0] : words[1]}: ${values}`;
}
