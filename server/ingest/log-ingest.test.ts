import { describe, expect, it } from 'vitest';
import { utcDay } from './log-ingest.ts';

describe('utcDay', () => {
  it('takes the UTC day of the device clock, converting offsets', () => {
    expect(utcDay('2026-01-02T23:30:00Z')).toBe('2026-01-02');
    expect(utcDay('2026-01-02T23:30:00.123456Z')).toBe('2026-01-02');
    expect(utcDay('2026-01-02T23:30:00-05:00')).toBe('2026-01-03');
    expect(utcDay('2026-01-03T01:00:00+02:00')).toBe('2026-01-02');
  });
});
