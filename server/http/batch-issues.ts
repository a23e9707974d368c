/**
 * zod issues as the contract's error details: a code per issue (features get the feature codes), and for a batch
 * body the per-item errors `{ index, id, code, message, path }`. No HTTP here (the parse thread uses it too).
 */
import type { z } from 'zod';
import type { ItemError } from '../../model/contract/index.ts';

type Issue = z.core.$ZodIssue;

/** The contract code for one zod issue on an item (features get the feature codes). */
export function issueCode(issue: Issue): string {
  const inInputs = issue.path.includes('inputs');
  if (inInputs) {
    if (issue.code === 'too_big' || issue.code === 'too_small') return 'feature-out-of-range';
    if (issue.code === 'invalid_type' && issue.path.length > 0) {
      return issue.input === undefined ? 'feature-missing' : 'feature-not-a-number';
    }
    if (issue.code === 'invalid_format' || issue.code === 'not_multiple_of') return 'feature-not-an-integer';
  }
  if (issue.path.includes('country') && issue.code === 'invalid_value') return 'unknown-country';
  if (issue.code === 'custom' && typeof issue.params?.code === 'string') return issue.params.code;
  if ((issue.code === 'too_big' || issue.code === 'too_small') && issue.origin === 'number')
    return 'number-out-of-range';
  return 'invalid-value';
}

/**
 * Per-item errors for a batch body `{ [listKey]: [...] }`: issues under
 * `listKey[i]` become `{ index, id, code, message, path }`; others are
 * returned as body-level issues.
 */
export function batchIssues(
  issues: readonly Issue[],
  listKey: string,
  body: unknown,
): { items: ItemError[]; body: { path: (string | number)[]; code: string; message: string }[] } {
  const items: ItemError[] = [];
  const top: { path: (string | number)[]; code: string; message: string }[] = [];
  const list = body && typeof body === 'object' ? (body as Record<string, unknown>)[listKey] : undefined;
  for (const i of issues) {
    const path = i.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
    if (path[0] === listKey && typeof path[1] === 'number') {
      const item = Array.isArray(list) ? (list[path[1]] as Record<string, unknown> | undefined) : undefined;
      const id = item && typeof item === 'object' && typeof item.id === 'string' ? item.id : undefined;
      items.push({
        index: path[1],
        ...(id ? { id } : {}),
        code: issueCode(i),
        message: i.message,
        path: path.slice(2),
      });
    } else {
      top.push({ path, code: 'invalid-value', message: i.message });
    }
  }
  return { items: items.slice(0, 200), body: top.slice(0, 50) };
}
