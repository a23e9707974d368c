import { describe, expect, it } from 'vitest';
import { formatDateTime, formatDay } from './date-format.ts';

describe('date format', () => {
  it('formats moments and calendar days in one style, a day the same in every time zone', () => {
    const day = formatDay('2024-03-01');
    expect(day).toBe(
      new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' }).format(Date.UTC(2024, 2, 1)),
    );
    expect(day).toMatch(/2024/);
    const at = '2024-03-01T10:15:00.000Z';
    expect(formatDateTime(at)).toBe(
      new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(at)),
    );
    expect(formatDateTime('not a date')).toBe('not a date');
    const now = new Date().toISOString();
    expect(formatDateTime(now, true)).toBe(
      new Intl.DateTimeFormat(undefined, { timeStyle: 'short' }).format(new Date(now)),
    );
  });
});
