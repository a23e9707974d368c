/**
 * Ground truth: whether a song charted in a country on a date. Sent by
 * devices (a marketer records what happened) or made from an admin's chart
 * upload. Idempotent by id.
 */
import { z } from 'zod';
import { CalendarDateSchema, EventTimeSchema, safeText } from './bounds.ts';
import { CountryCodeSchema } from './countries.ts';
import { DeviceIdSchema } from './prediction-log.ts';

export const OUTCOME_SOURCES = ['device', 'chart-upload'] as const;

/** A song is known by its catalogue id, or by the fingerprint of its features. */
export const SongRefSchema = z
  .object({
    songId: safeText(64, 1).optional(),
    fingerprint: z
      .string()
      .regex(/^[0-9a-f]{16}$/)
      .optional(),
  })
  .refine((s) => s.songId !== undefined || s.fingerprint !== undefined, 'songId or fingerprint is required');
export type SongRef = z.infer<typeof SongRefSchema>;

export const OutcomeSchema = z.strictObject({
  id: z.uuid(),
  song: SongRefSchema,
  country: CountryCodeSchema,
  charted: z.boolean(),
  /** Chart date the outcome is about. */
  date: CalendarDateSchema,
  source: z.enum(OUTCOME_SOURCES),
  deviceId: DeviceIdSchema.optional(),
  /** When it was recorded (device clock for device outcomes). */
  recordedAt: EventTimeSchema,
});
export type Outcome = z.infer<typeof OutcomeSchema>;
