import { describe, expect, it } from 'vitest';
import { checkResponse, endpointFor } from './contract-check.ts';

describe('checkResponse', () => {
  it('finds the table entry of a request, params and query included', () => {
    expect(endpointFor('GET', '/api/v1/models/v1/files/model.json?x=1')?.name).toBe('modelFile');
    expect(endpointFor('POST', '/api/v1/models')?.name).toBe('publishModel');
    expect(endpointFor('GET', '/index.html')).toBeNull();
  });

  it('throws on a 2xx JSON answer that does not match its entry, and lets a matching one and errors pass', async () => {
    const good = { active: 'v1', cohort: 'canary', shadow: null, checkedAt: '2026-01-01T00:00:00.000Z' };
    await expect(checkResponse('GET', '/api/v1/assignment', Response.json(good))).resolves.toBeUndefined();
    await expect(checkResponse('GET', '/api/v1/assignment', Response.json({ ...good, cohort: 'all' }))).rejects.toThrow(
      /ENDPOINTS\.assignment/,
    );
    const error = Response.json({ error: { code: 'not-found', message: 'x' } }, { status: 404 });
    await expect(checkResponse('GET', '/api/v1/assignment', error)).resolves.toBeUndefined();
  });
});
