/**
 * The model's 13 inputs, in the order the model reads them, with unit, valid
 * range and a one-line description for the UI, plus the one parser that turns
 * raw user / CSV values into a validated feature record (or per-field codes).
 */
import { z } from 'zod';
import type { FieldErrorCode } from './errors.ts';

export type FeatureKind = 'boolean' | 'integer' | 'number';

export interface FeatureSpec {
  readonly name: string;
  readonly label: string;
  readonly unit: string;
  readonly kind: FeatureKind;
  readonly min: number;
  readonly max: number;
  readonly description: string;
}

/** Input order of the exported model. Never reorder: manifests pin it. */
export const FEATURE_NAMES = [
  'is_explicit',
  'duration_ms',
  'danceability',
  'energy',
  'key',
  'loudness',
  'mode',
  'speechiness',
  'acousticness',
  'instrumentalness',
  'liveness',
  'valence',
  'tempo',
] as const;

export type FeatureName = (typeof FEATURE_NAMES)[number];

const unit = (name: FeatureName, label: string, description: string): FeatureSpec => ({
  name,
  label,
  unit: '0–1',
  kind: 'number',
  min: 0,
  max: 1,
  description,
});

export const FEATURES: Readonly<Record<FeatureName, FeatureSpec>> = {
  is_explicit: {
    name: 'is_explicit',
    label: 'Explicit',
    unit: 'yes/no',
    kind: 'boolean',
    min: 0,
    max: 1,
    description: 'Whether the track is marked as having explicit lyrics.',
  },
  duration_ms: {
    name: 'duration_ms',
    label: 'Duration',
    unit: 'ms',
    kind: 'integer',
    // 1 s to 60 min: wider than any chart song, narrow enough to catch seconds typed as ms.
    min: 1_000,
    max: 3_600_000,
    description: 'Length of the track.',
  },
  danceability: unit(
    'danceability',
    'Danceability',
    'How suitable the track is for dancing (tempo, rhythm stability, beat strength).',
  ),
  energy: unit('energy', 'Energy', 'Perceived intensity and activity: fast, loud, noisy tracks score high.'),
  key: {
    name: 'key',
    label: 'Key',
    unit: 'pitch class',
    kind: 'integer',
    min: -1,
    max: 11,
    description: 'Estimated key as a pitch class (0 = C, 1 = C♯/D♭ … 11 = B; −1 = not detected).',
  },
  loudness: {
    name: 'loudness',
    label: 'Loudness',
    unit: 'dB',
    kind: 'number',
    min: -60,
    max: 5,
    description: 'Average loudness of the track in decibels (typically −60 to 0 dB).',
  },
  mode: {
    name: 'mode',
    label: 'Mode',
    unit: 'major/minor',
    kind: 'integer',
    min: 0,
    max: 1,
    description: 'Modality of the track: 1 = major, 0 = minor.',
  },
  speechiness: unit('speechiness', 'Speechiness', 'Presence of spoken words: above 0.66 is mostly speech.'),
  acousticness: unit('acousticness', 'Acousticness', 'Confidence that the track is acoustic.'),
  instrumentalness: unit(
    'instrumentalness',
    'Instrumentalness',
    'Likelihood that the track has no vocals: above 0.5 is probably instrumental.',
  ),
  liveness: unit('liveness', 'Liveness', 'Presence of an audience: above 0.8 is probably a live recording.'),
  valence: unit('valence', 'Valence', 'Musical positiveness: high is happy or cheerful, low is sad or angry.'),
  tempo: {
    name: 'tempo',
    label: 'Tempo',
    unit: 'BPM',
    kind: 'number',
    min: 0,
    max: 250,
    description: 'Estimated tempo in beats per minute.',
  },
};

/** Ordered list of specs (same order as FEATURE_NAMES). */
export const FEATURE_SPECS: readonly FeatureSpec[] = FEATURE_NAMES.map((n) => FEATURES[n]);

export const NUM_FEATURES = FEATURE_NAMES.length;

const featureField = (spec: FeatureSpec) => {
  let s = z.number().finite().min(spec.min).max(spec.max);
  if (spec.kind !== 'number') s = s.int();
  return s;
};

/**
 * Validated raw feature values, keyed by name. Booleans are 0/1 so every
 * field is a plain number.
 *
 * @example
 * FeaturesSchema.parse({ is_explicit: 0, duration_ms: 200000, danceability: 0.7, … })
 */
export const FeaturesSchema = z.strictObject(
  Object.fromEntries(FEATURE_SPECS.map((s) => [s.name, featureField(s)])) as {
    [K in FeatureName]: z.ZodNumber;
  },
);

export type Features = z.infer<typeof FeaturesSchema>;

/** A feature vector in model input order. */
export type FeatureVector = number[];

export function toVector(f: Features): FeatureVector {
  return FEATURE_NAMES.map((n) => f[n]);
}

export function fromVector(v: ArrayLike<number>): Features {
  if (v.length !== NUM_FEATURES) throw new Error(`expected ${NUM_FEATURES} features, got ${v.length}`);
  return Object.fromEntries(FEATURE_NAMES.map((n, i) => [n, v[i]])) as Features;
}

export interface FieldError {
  readonly field: FeatureName;
  readonly code: FieldErrorCode;
  /** The raw value as given, for messages. */
  readonly value: unknown;
}

/**
 * How a duration typed as text was read: "3:30" (m:ss), "3.5" (minutes), "210" (seconds) or "210000"
 * (milliseconds, the data's own unit). The UI echoes it ("3.5 → 3:30") so nothing is read silently.
 */
export type DurationReading = 'm:ss' | 'minutes' | 'seconds' | 'milliseconds';

export type ParseResult =
  | { ok: true; value: Features; durationReading?: DurationReading }
  | { ok: false; errors: FieldError[] };

export interface ParseOptions {
  /**
   * 'milliseconds' (default: pipeline, server, JSON): duration_ms is a number of ms.
   * 'flexible' (form, batch CSV, URL): a duration typed as text may be m:ss, minutes, seconds or ms.
   */
  readonly durations?: 'milliseconds' | 'flexible';
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'y']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'n']);
// U+2212 minus (the one typographic text and this app's own help use), en dash, small/full-width hyphen-minus.
const MINUS_SIGNS = /^[\u2212\u2013\ufe63\uff0d]/;
// Thousands grouped by a (no-break, thin) space: "200 000".
const GROUPED = /^[+-]?\d{1,3}(?:[ \u00a0\u202f\u2009]\d{3})+(?:[.,]\d+)?$/;

/**
 * A number as people type it in any locale: decimal point or decimal comma ("0,5"), a Unicode minus
 * ("−6"), digits grouped by spaces ("200 000"). Refuses anything JS's Number() would accept but a person
 * did not mean (hex, "Infinity", "1e", empty). A comma with a point in the same number ("1,234.5") is refused
 * rather than guessed.
 *
 * @example
 * parseNumberText('0,5') // 0.5
 * parseNumberText('−6')  // -6
 * parseNumberText('0x10') // null
 */
export function parseNumberText(text: string): number | null {
  let t = text.trim().replace(MINUS_SIGNS, '-');
  if (GROUPED.test(t)) t = t.replace(/[ \u00a0\u202f\u2009]/g, '');
  const commas = t.split(',').length - 1;
  if (commas === 1 && !t.includes('.')) t = t.replace(',', '.');
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

/** Longest bare number read as minutes ("3.5" → 3:30); up to an hour, seconds; from 10,000 on, milliseconds. */
const MAX_MINUTES = 15;
const MAX_SECONDS = 3600;
const MIN_MILLISECONDS = 10_000;

/**
 * A duration typed as text, in milliseconds, and how it was read; null when it is not a duration or a bare
 * number sits between the units (e.g. 5000: seconds would be 83 minutes, milliseconds 5 s).
 *
 * @example
 * parseDurationText('3:30')   // { ms: 210000, reading: 'm:ss' }
 * parseDurationText('3,5')    // { ms: 210000, reading: 'minutes' }
 * parseDurationText('210')    // { ms: 210000, reading: 'seconds' }
 * parseDurationText('200000') // { ms: 200000, reading: 'milliseconds' }
 */
export function parseDurationText(text: string): { ms: number; reading: DurationReading } | null {
  const t = text.trim();
  const m = /^(\d{1,3}):([0-5]?\d(?:[.,]\d+)?)$/.exec(t);
  if (m) {
    return { ms: Math.round((Number(m[1]) * 60 + Number(m[2]!.replace(',', '.'))) * 1000), reading: 'm:ss' };
  }
  const n = parseNumberText(t);
  if (n === null || n <= 0) return null;
  if (n <= MAX_MINUTES) return { ms: Math.round(n * 60_000), reading: 'minutes' };
  if (n <= MAX_SECONDS) return { ms: Math.round(n * 1000), reading: 'seconds' };
  if (n >= MIN_MILLISECONDS) return { ms: Math.round(n), reading: 'milliseconds' };
  return null;
}

function parseOne(spec: FeatureSpec, raw: unknown, options: ParseOptions): number | FieldErrorCode {
  if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) {
    return 'feature-missing';
  }
  let n: number;
  if (spec.kind === 'boolean') {
    if (typeof raw === 'boolean') return raw ? 1 : 0;
    const w = String(raw).trim().toLowerCase();
    if (TRUE_WORDS.has(w)) return 1;
    if (FALSE_WORDS.has(w)) return 0;
    return 'feature-not-boolean';
  }
  if (typeof raw === 'number') n = raw;
  else if (typeof raw === 'string') {
    if (spec.name === 'duration_ms' && options.durations === 'flexible') {
      const d = parseDurationText(raw);
      if (!d) return 'feature-duration-unclear';
      n = d.ms;
    } else {
      const parsed = parseNumberText(raw);
      if (parsed === null) return 'feature-not-a-number';
      n = parsed;
    }
  } else return 'feature-not-a-number';
  if (!Number.isFinite(n)) return 'feature-not-a-number';
  if (spec.kind === 'integer' && !Number.isInteger(n)) return 'feature-not-an-integer';
  if (n < spec.min || n > spec.max) return 'feature-out-of-range';
  return n;
}

/**
 * Turns raw values (form strings, CSV cells, URL parameters, JSON numbers) into validated features, or every
 * field's problem at once. The one parser for the form, the batch CSV and the URL (`durations: 'flexible'`),
 * and for the pipeline and server (durations in ms).
 *
 * @example
 * parseFeatures({ is_explicit: 'TRUE', duration_ms: '200000', … }) // { ok: true, value }
 * parseFeatures({ danceability: '1.4' }) // { ok: false, errors: [{ field: 'danceability', code: 'feature-out-of-range' }, …] }
 * parseFeatures({ …, danceability: '0,62', duration_ms: '3.5' }, { durations: 'flexible' })
 * // { ok: true, value: { danceability: 0.62, duration_ms: 210000, … }, durationReading: 'minutes' }
 */
export function parseFeatures(raw: Readonly<Record<string, unknown>>, options: ParseOptions = {}): ParseResult {
  const errors: FieldError[] = [];
  const out: Partial<Record<FeatureName, number>> = {};
  for (const spec of FEATURE_SPECS) {
    const name = spec.name as FeatureName;
    const r = parseOne(spec, raw[name], options);
    if (typeof r === 'number') out[name] = r;
    else errors.push({ field: name, code: r, value: raw[name] });
  }
  if (errors.length > 0) return { ok: false, errors };
  const d = raw.duration_ms;
  const reading = options.durations === 'flexible' && typeof d === 'string' ? parseDurationText(d)?.reading : undefined;
  return reading
    ? { ok: true, value: out as Features, durationReading: reading }
    : { ok: true, value: out as Features };
}

/** Range text for the UI, e.g. "0–1" or "−60 to 5 dB". */
export function describeRange(spec: FeatureSpec): string {
  return `${spec.min} to ${spec.max}${spec.unit === '0–1' ? '' : ` ${spec.unit}`}`;
}

/**
 * `Number(x.toPrecision(6)).toString()`, fast: `toPrecision` was a sixth of the server's ingest time. When the
 * shortest text of x has at most six significant digits (every Spotify feature value: three decimals, whole
 * milliseconds), rounding x to six digits gives that same number back, so its text is the answer.
 */
function sixDigits(x: number): string {
  const s = String(x);
  let digits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 101 /* e */) break;
    if (c < 48 || c > 57 || (c === 48 && digits === 0)) continue; // sign, point, leading zeros
    if (++digits > 6) return Number(x.toPrecision(6)).toString();
  }
  return s;
}

/** What a fingerprint hashes: each value at six significant digits, in input order, joined by `|`. */
export function fingerprintText(f: Features): string {
  let text = sixDigits(f[FEATURE_NAMES[0] as FeatureName]);
  for (let i = 1; i < FEATURE_NAMES.length; i++) text += `|${sixDigits(f[FEATURE_NAMES[i] as FeatureName])}`;
  return text;
}

/**
 * A stable fingerprint of an input, so the same song predicted many times
 * counts once in drift statistics. Values are rounded to 6 significant
 * digits first (CSV round-trips must not make a new song). Two 32-bit
 * FNV-1a lanes with different offsets: cheap enough for every ingested log.
 */
export function featureFingerprint(f: Features): string {
  const text = fingerprintText(f);
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (a >>> 15);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
