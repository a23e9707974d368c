import { describe, expect, it } from 'vitest';
import { DEFAULT_EVENT_WINDOW, EventTimeSchema, inEventWindow, isCalendarDate, isSafeText } from './bounds.ts';

describe('ingest bounds', () => {
  it('takes calendar days only', () => {
    expect(['2024-02-29', '2026-12-31', '2000-01-01'].map(isCalendarDate)).toEqual([true, true, true]);
    expect(
      ['2026-02-31', '2025-02-29', '9999-99-99', '2026-13-01', '2026-1-01', '1999-12-31'].map(isCalendarDate),
    ).toEqual([false, false, false, false, false, false]);
  });

  it('refuses control characters and lone surrogates, keeps real text', () => {
    expect(['Beyoncé', 'Sigur Rós — 🎵', 'a b'].map(isSafeText)).toEqual([true, true, true]);
    expect(['a\u0000b', 'tab\there', 'x\u009f', 'a\ud800', '\udc00b'].map(isSafeText)).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it('bounds event times by year and by the window of receipt', () => {
    expect(EventTimeSchema.safeParse('0000-01-01T00:00:00Z').success).toBe(false);
    expect(EventTimeSchema.safeParse('9999-12-31T23:59:59Z').success).toBe(false);
    expect(EventTimeSchema.safeParse('2026-06-01T00:00:00+02:00').success).toBe(true);
    const now = Date.parse('2026-12-03T12:00:00Z');
    expect(inEventWindow('2026-09-05T12:00:00Z', now, DEFAULT_EVENT_WINDOW)).toBe(true);
    expect(inEventWindow('2026-09-03T11:00:00Z', now, DEFAULT_EVENT_WINDOW)).toBe(false);
    expect(inEventWindow('2026-12-04T11:00:00Z', now, DEFAULT_EVENT_WINDOW)).toBe(true);
    expect(inEventWindow('2026-12-04T13:00:00Z', now, DEFAULT_EVENT_WINDOW)).toBe(false);
  });
});
