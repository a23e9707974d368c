/**
 * How the form shows and reads each feature: duration as m:ss, key as a note
 * name, booleans as toggles; everything else as plain numbers. Pure
 * functions, so the round trip (form text → model value) is unit-tested.
 */
import {
  type DurationReading,
  FEATURES,
  type FeatureName,
  type FeatureSpec,
  type Features,
  type ParseResult,
  parseFeatures,
} from '../../../../model/contract/features.ts';

export const KEY_NAMES = ['C', 'C♯/D♭', 'D', 'D♯/E♭', 'E', 'F', 'F♯/G♭', 'G', 'G♯/A♭', 'A', 'A♯/B♭', 'B'] as const;

/** Form text per feature (what the inputs hold). */
export type FormValues = Record<FeatureName, string>;

export function formatDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, '0')}`;
}

/** How a typed duration was read, in words, e.g. "3.5 → 3:30 (read as minutes)"; null when it was typed as m:ss. */
export function durationEcho(text: string, reading: DurationReading | undefined, ms: number): string | null {
  if (!reading || reading === 'm:ss') return null;
  return `${text.trim()} → ${formatDuration(ms)} (read as ${reading})`;
}

export function keyName(key: number): string {
  return key < 0 ? 'not detected' : (KEY_NAMES[key] ?? String(key));
}

/** Short display of a value in the feature's own unit. */
export function formatValue(name: FeatureName, v: number): string {
  switch (name) {
    case 'is_explicit':
      return v >= 0.5 ? 'explicit' : 'clean';
    case 'mode':
      return v >= 0.5 ? 'major' : 'minor';
    case 'duration_ms':
      return formatDuration(v);
    case 'key':
      return Number.isInteger(v) ? keyName(v) : v.toFixed(1);
    case 'loudness':
      return `${v.toFixed(1)} dB`;
    case 'tempo':
      return `${v.toFixed(0)} BPM`;
    default:
      return v.toFixed(2);
  }
}

/** Valid range in the form's own units. */
export function rangeText(spec: FeatureSpec): string {
  if (spec.name === 'duration_ms') return `${formatDuration(spec.min)} to ${formatDuration(spec.max)} (m:ss)`;
  if (spec.kind === 'boolean') return 'yes or no';
  if (spec.name === 'mode') return 'major or minor';
  if (spec.name === 'key') return 'a note, or not detected';
  const unit = spec.unit === '0–1' ? '' : ` ${spec.unit}`;
  return `${spec.min} to ${spec.max}${unit}`;
}

export function toFormValues(f: Features): FormValues {
  const out = {} as FormValues;
  for (const name of Object.keys(FEATURES) as FeatureName[]) {
    const v = f[name];
    out[name] =
      name === 'duration_ms' ? formatDuration(v) : name === 'is_explicit' ? (v ? 'true' : 'false') : String(v);
  }
  return out;
}

/**
 * The form's text checked against the contract: the same parser as the batch CSV and the URL (decimal comma,
 * Unicode minus, durations as m:ss, minutes, seconds or milliseconds).
 */
export function readForm(values: FormValues): ParseResult {
  return parseFeatures(values, { durations: 'flexible' });
}

/** A reference mean in words: for yes/no and major/minor the mean is a share, not a value. */
export function formatReference(name: FeatureName, v: number): string {
  if (name === 'is_explicit') return `${Math.round(v * 100)}% explicit`;
  if (name === 'mode') return `${Math.round(v * 100)}% major`;
  if (name === 'key') return v.toFixed(1);
  return formatValue(name, v);
}
