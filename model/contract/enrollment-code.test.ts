import { describe, expect, it } from 'vitest';
import { isWellFormedEnrollmentCode, normalizeEnrollmentCode } from './enrollment-code.ts';

describe('normalizeEnrollmentCode', () => {
  it.each([
    ['ABCD-EFGH-JKMN', 'ABCD-EFGH-JKMN'],
    [' abcd efgh jkmn ', 'ABCD-EFGH-JKMN'],
    ['abcdefghjkmn', 'ABCD-EFGH-JKMN'],
    ['ABCD—EFGH–JKMN', 'ABCD-EFGH-JKMN'],
    ['ａｂｃｄ-efgh-jkmn', 'ABCD-EFGH-JKMN'],
  ])('%j → %s', (typed, canonical) => {
    expect(normalizeEnrollmentCode(typed)).toBe(canonical);
  });

  it('leaves a code of the wrong length unseparated, for the server to refuse', () => {
    expect(normalizeEnrollmentCode('ab-cd')).toBe('ABCD');
  });

  it('tells well-formed codes from impossible ones', () => {
    expect(isWellFormedEnrollmentCode('abcd efgh jkmn')).toBe(true);
    expect(isWellFormedEnrollmentCode('ABCD-EFGH-JKM')).toBe(false);
    expect(isWellFormedEnrollmentCode('ABCD-EFGH-JKM0')).toBe(false);
  });
});
