import { describe, expect, it } from 'vitest';
import { parseOutcomeExport } from './from-server.ts';

const line = {
  id: 'o1',
  songId: 'song-1',
  fingerprint: null,
  country: 'DE',
  charted: true,
  date: '2026-11-01',
  source: 'device',
  features: [0, 200000, 0.5, 0.5, 1, -6, 1, 0.1, 0.1, 0, 0.1, 0.5, 120],
};

describe('parseOutcomeExport', () => {
  it('reads valid lines and skips blank ones', () => {
    const rows = parseOutcomeExport(
      `${JSON.stringify(line)}\n\n${JSON.stringify({ ...line, id: 'o2', features: null })}\n`,
    );
    expect(rows.map((r) => [r.id, r.features?.length ?? null])).toEqual([
      ['o1', 13],
      ['o2', null],
    ]);
  });

  it('names the line and the field of a bad line', () => {
    const text = `${JSON.stringify(line)}\n${JSON.stringify({ ...line, country: 'XX' })}\n`;
    expect(() => parseOutcomeExport(text)).toThrow(/line 2: country/);
    expect(() => parseOutcomeExport(`${JSON.stringify({ ...line, features: [1, 2] })}`)).toThrow(/line 1: features/);
    expect(() => parseOutcomeExport('{oops')).toThrow(/line 1: not JSON/);
  });
});
