/**
 * Ingest bounds: what a value from a device may be before the server stores it. Text without control characters
 * or broken Unicode, numbers finite and bounded, calendar-valid dates, and event times within a window of when the
 * server received them. Each has an item code (errors.ts) so a refused item says why.
 */
import { z } from 'zod';

/** C0/C1 control characters (NUL, escape, DEL, …). */
const CONTROL = /\p{Cc}/u;
/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Whether `s` is text a person could have typed: no control characters, no lone surrogates.
 *
 * @example
 * isSafeText('Beyoncé') // true
 * isSafeText('a\u0000b') // false
 */
export function isSafeText(s: string): boolean {
  return !CONTROL.test(s) && !LONE_SURROGATE.test(s);
}

/** A string of at most `max` characters that passes `isSafeText` (item code `invalid-text`). */
export function safeText(max: number, min = 0) {
  return z
    .string()
    .min(min)
    .max(max)
    .refine(isSafeText, {
      message: 'contains control characters or invalid Unicode',
      params: { code: 'invalid-text' },
    });
}

/**
 * A real calendar day `YYYY-MM-DD` between years 2000 and 2100 (`2026-02-31`, `9999-99-99` are not).
 *
 * @example
 * isCalendarDate('2024-02-29') // true
 * isCalendarDate('2026-02-31') // false
 */
export function isCalendarDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < MIN_YEAR || y > MAX_YEAR) return false;
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

/** Years outside this range are a broken clock or a forged value, whatever the window says. */
export const MIN_YEAR = 2000;
export const MAX_YEAR = 2100;

export const CalendarDateSchema = z
  .string()
  .refine(isCalendarDate, { message: 'not a calendar date YYYY-MM-DD', params: { code: 'invalid-date' } });

/** An ISO date-time with offset whose year is plausible (the window of receipt is checked by the server). */
export const EventTimeSchema = z.iso.datetime({ offset: true }).refine(
  (s) => {
    const t = Date.parse(s);
    if (!Number.isFinite(t)) return false;
    const y = new Date(t).getUTCFullYear();
    return y >= MIN_YEAR && y <= MAX_YEAR;
  },
  { message: `year outside ${MIN_YEAR}–${MAX_YEAR}`, params: { code: 'event-time-out-of-window' } },
);

/** A prediction (or a shadow prediction) taking longer than an hour is not a latency, it is a bug. */
export const MAX_LATENCY_MS = 3_600_000;
export const LatencySchema = z.number().finite().nonnegative().max(MAX_LATENCY_MS);

/** How far before and after the server's receipt an event time may be (days). */
export interface EventWindow {
  backDays: number;
  aheadDays: number;
}
export const DEFAULT_EVENT_WINDOW: EventWindow = { backDays: 90, aheadDays: 1 };

/**
 * Whether an event time lies within `window` of `receivedAtMs`. Devices work offline for weeks, so the window
 * looks back far; a clock far ahead would put the event in a future drift day and pin "last seen" there.
 *
 * @example
 * inEventWindow('2026-01-10T00:00:00Z', Date.parse('2026-01-10T12:00:00Z'), DEFAULT_EVENT_WINDOW) // true
 */
export function inEventWindow(isoDateTime: string, receivedAtMs: number, window: EventWindow): boolean {
  const t = Date.parse(isoDateTime);
  if (!Number.isFinite(t)) return false;
  return t >= receivedAtMs - window.backDays * 86_400_000 && t <= receivedAtMs + window.aheadDays * 86_400_000;
}
