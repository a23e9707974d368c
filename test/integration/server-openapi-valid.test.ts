/**
 * The generated `/api/v1/openapi.json` is a valid OpenAPI 3.1 document (checked with swagger-parser, which
 * also resolves every reference). Kept apart from server-contract.test.ts so the table checks run without it.
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, type TestServer } from '../../server/testing/harness.ts';

let s: TestServer;
beforeAll(async () => {
  s = await createTestServer();
});
afterAll(async () => s.close());

describe('the generated OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const doc = (await (await s.req('/api/v1/openapi.json', { token: null })).json()) as { openapi: string };
    expect(doc.openapi).toBe('3.1.0');
    await expect(SwaggerParser.validate(doc as never)).resolves.toBeTruthy();
  });

  it('the validator refuses a broken document (so the check above can fail)', async () => {
    const doc = (await (await s.req('/api/v1/openapi.json', { token: null })).json()) as {
      paths: Record<string, Record<string, { responses?: unknown }>>;
    };
    const op = doc.paths['/api/v1/overview']?.get;
    // A response without its required description.
    if (op) op.responses = { '200': {} };
    await expect(SwaggerParser.validate(doc as never)).rejects.toThrow();
  });
});
