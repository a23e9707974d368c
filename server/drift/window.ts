/** A window of UTC days and the periods (day or ISO week) that reports split it into. */
export interface DayWindow {
  from: string;
  to: string;
}

export type Granularity = 'day' | 'week';

/** Start of the period a day belongs to: the day itself, or the Monday of its ISO week. */
export function periodOf(day: string, g: Granularity): string {
  if (g === 'day') return day;
  const d = new Date(`${day}T00:00:00Z`);
  const dow = (d.getUTCDay() + 6) % 7;
  d.setUTCDate(d.getUTCDate() - dow);
  return d.toISOString().slice(0, 10);
}

/** The day `days` before `day` (YYYY-MM-DD). */
export function daysBefore(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10);
}
