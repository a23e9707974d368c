/**
 * The model's 72 outputs: one probability per country, in this order. The
 * global chart is not a country and never an output.
 */
import { z } from 'zod';

/** Output order of the exported model. Never reorder: manifests pin it. */
export const COUNTRY_CODES = [
  'AE',
  'AR',
  'AT',
  'AU',
  'BE',
  'BG',
  'BO',
  'BR',
  'BY',
  'CA',
  'CH',
  'CL',
  'CO',
  'CR',
  'CZ',
  'DE',
  'DK',
  'DO',
  'EC',
  'EE',
  'EG',
  'ES',
  'FI',
  'FR',
  'GB',
  'GR',
  'GT',
  'HK',
  'HN',
  'HU',
  'ID',
  'IE',
  'IL',
  'IN',
  'IS',
  'IT',
  'JP',
  'KR',
  'KZ',
  'LT',
  'LU',
  'LV',
  'MA',
  'MX',
  'MY',
  'NG',
  'NI',
  'NL',
  'NO',
  'NZ',
  'PA',
  'PE',
  'PH',
  'PK',
  'PL',
  'PT',
  'PY',
  'RO',
  'SA',
  'SE',
  'SG',
  'SK',
  'SV',
  'TH',
  'TR',
  'TW',
  'UA',
  'US',
  'UY',
  'VE',
  'VN',
  'ZA',
] as const;

export type CountryCode = (typeof COUNTRY_CODES)[number];

export const NUM_COUNTRIES = COUNTRY_CODES.length;

export const COUNTRY_NAMES: Readonly<Record<CountryCode, string>> = {
  AE: 'United Arab Emirates',
  AR: 'Argentina',
  AT: 'Austria',
  AU: 'Australia',
  BE: 'Belgium',
  BG: 'Bulgaria',
  BO: 'Bolivia',
  BR: 'Brazil',
  BY: 'Belarus',
  CA: 'Canada',
  CH: 'Switzerland',
  CL: 'Chile',
  CO: 'Colombia',
  CR: 'Costa Rica',
  CZ: 'Czechia',
  DE: 'Germany',
  DK: 'Denmark',
  DO: 'Dominican Republic',
  EC: 'Ecuador',
  EE: 'Estonia',
  EG: 'Egypt',
  ES: 'Spain',
  FI: 'Finland',
  FR: 'France',
  GB: 'United Kingdom',
  GR: 'Greece',
  GT: 'Guatemala',
  HK: 'Hong Kong',
  HN: 'Honduras',
  HU: 'Hungary',
  ID: 'Indonesia',
  IE: 'Ireland',
  IL: 'Israel',
  IN: 'India',
  IS: 'Iceland',
  IT: 'Italy',
  JP: 'Japan',
  KR: 'South Korea',
  KZ: 'Kazakhstan',
  LT: 'Lithuania',
  LU: 'Luxembourg',
  LV: 'Latvia',
  MA: 'Morocco',
  MX: 'Mexico',
  MY: 'Malaysia',
  NG: 'Nigeria',
  NI: 'Nicaragua',
  NL: 'Netherlands',
  NO: 'Norway',
  NZ: 'New Zealand',
  PA: 'Panama',
  PE: 'Peru',
  PH: 'Philippines',
  PK: 'Pakistan',
  PL: 'Poland',
  PT: 'Portugal',
  PY: 'Paraguay',
  RO: 'Romania',
  SA: 'Saudi Arabia',
  SE: 'Sweden',
  SG: 'Singapore',
  SK: 'Slovakia',
  SV: 'El Salvador',
  TH: 'Thailand',
  TR: 'Turkey',
  TW: 'Taiwan',
  UA: 'Ukraine',
  US: 'United States',
  UY: 'Uruguay',
  VE: 'Venezuela',
  VN: 'Vietnam',
  ZA: 'South Africa',
};

export const CountryCodeSchema = z.enum(COUNTRY_CODES);

const INDEX: ReadonlyMap<string, number> = new Map(COUNTRY_CODES.map((c, i) => [c, i]));

/** Output index of a country code, or -1 when it is not one of the 72. */
export function countryIndex(code: string): number {
  return INDEX.get(code) ?? -1;
}

export function isCountryCode(code: string): code is CountryCode {
  return INDEX.has(code);
}

/** The model's 72 probabilities, in COUNTRY_CODES order. */
export const ProbabilitiesSchema = z.array(z.number().finite().min(0).max(1)).length(NUM_COUNTRIES);

/** 10^k for the digits a log keeps; exact doubles up to 10^22. */
const POW10: readonly number[] = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * A model's probabilities as a log carries them: clamped to [0, 1] and cut to 9 significant digits. Nine digits
 * name every float32 exactly (`Math.fround` of the result is the model's own float32 output), so nothing the
 * model said is lost, and the JSON text is about half that of the full double (17 digits): the outputs are most
 * of an ingest body, and parsing it is the server's largest cost per batch.
 *
 * @example
 * probabilitiesForLog(new Float32Array([0.1, 1.5])) // [0.100000001, 1]
 */
export function probabilitiesForLog(values: ArrayLike<number>): number[] {
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = nineDigits(Math.min(1, Math.max(0, values[i] as number)));
  return out;
}

function nineDigits(p: number): number {
  if (!(p > 0) || p === 1) return p; // 0, 1 and NaN (which the schema then refuses) stay as they are
  const k = 8 - Math.floor(Math.log10(p)); // decimals that leave 9 significant digits
  const scale = POW10[k];
  // Math.round(p·10^k) / 10^k is the double nearest a ≤ 9-digit decimal, so JSON writes it in ≤ 9 digits.
  return scale === undefined ? Number(p.toPrecision(9)) : Math.round(p * scale) / scale;
}
