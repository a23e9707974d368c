/** Request body limits per route group (hono/body-limit), answered in the contract's error shape. */
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { describeError } from '../../model/contract/index.ts';
import { errorBody } from './errors.ts';

export function limitBody(maxSize: number): MiddlewareHandler {
  return bodyLimit({
    maxSize,
    onError: (c) => c.json(errorBody('body-too-large', describeError('body-too-large'), { maxBytes: maxSize }), 413),
  });
}
