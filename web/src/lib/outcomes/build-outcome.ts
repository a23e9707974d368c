/**
 * Turns what the marketer says happened to a predicted song ("charted /
 * did not chart in country Y on date D") into a contract outcome record.
 * The song is named by its catalogue id when the prediction had one, else
 * by the fingerprint of its features (as the server's drift code does).
 */
import { uuidv7 } from 'uuidv7';
import type { CountryCode } from '../../../../model/contract/countries.ts';
import { fail, ok, type Result } from '../../../../model/contract/errors.ts';
import { featureFingerprint } from '../../../../model/contract/features.ts';
import { type Outcome, OutcomeSchema } from '../../../../model/contract/outcome.ts';
import type { PredictionLog } from '../../../../model/contract/prediction-log.ts';

export interface OutcomeInput {
  readonly log: PredictionLog;
  readonly country: CountryCode;
  readonly charted: boolean;
  /** Chart date, YYYY-MM-DD. */
  readonly date: string;
  readonly deviceId: string;
}

/** Today in the device's own calendar, as YYYY-MM-DD (a chart date is a local day to the marketer). */
export function localDate(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

export function buildOutcome(input: OutcomeInput, recordedAt = new Date()): Result<Outcome, 'invalid-value'> {
  // What happened cannot be known for a day that has not come (a day of slack for time zones).
  if (input.date > localDate(new Date(recordedAt.getTime() + 86_400_000))) {
    return fail('invalid-value', { field: 'date', problem: 'in the future' });
  }
  const outcome = {
    id: uuidv7(),
    song: input.log.songId ? { songId: input.log.songId } : { fingerprint: featureFingerprint(input.log.inputs) },
    country: input.country,
    charted: input.charted,
    date: input.date,
    source: 'device' as const,
    deviceId: input.deviceId,
    recordedAt: recordedAt.toISOString(),
  };
  const parsed = OutcomeSchema.safeParse(outcome);
  if (!parsed.success) return fail('invalid-value', { issues: parsed.error.issues.slice(0, 3) });
  return ok(parsed.data);
}
