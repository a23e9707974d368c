import { describe, expect, it } from 'vitest';
import { jsonDepthExceeds } from './json-text.ts';

describe('jsonDepthExceeds', () => {
  it('counts nesting outside strings only', () => {
    expect(jsonDepthExceeds(`${'['.repeat(64)}${']'.repeat(64)}`)).toBe(false);
    expect(jsonDepthExceeds(`${'['.repeat(65)}${']'.repeat(65)}`)).toBe(true);
    expect(jsonDepthExceeds(`{"a":"${'['.repeat(100)}"}`)).toBe(false);
    expect(jsonDepthExceeds(`{"a":"\\"${'{'.repeat(100)}"}`)).toBe(false);
    expect(jsonDepthExceeds('[{"a":[{"b":[1]}]}]', 4)).toBe(true);
    expect(jsonDepthExceeds('[{"a":[{"b":1}]}]', 4)).toBe(false);
  });
});
