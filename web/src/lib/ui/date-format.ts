/**
 * One way to show dates and times everywhere in the app: the device's own locale (the browser's language
 * settings), medium date and short time. Formatters are made once; a day without a time (an outcome's chart
 * date, "2024-03-01") is shown as that calendar day wherever the device is.
 */
const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const TIME = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });
const DAY = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' });

/** A moment: "3 Dec 2026, 08:17" (in the device's locale); today's shows the time only when `short`. */
export function formatDateTime(iso: string, short = false): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  if (short && d.toDateString() === new Date().toDateString()) return TIME.format(d);
  return DATE_TIME.format(d);
}

/** A calendar day given as YYYY-MM-DD: "1 Mar 2024", the same day in every time zone. */
export function formatDay(day: string): string {
  const d = new Date(`${day.slice(0, 10)}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? day : DAY.format(d);
}
