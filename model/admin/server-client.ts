/**
 * The admin CLI's view of the server's registry API: publish a signed model
 * folder, change the rollout (canary, promote, rollback, shadow), read it.
 * Errors come back as the server's `{ error: { code, message } }` in words.
 */
import { describeError } from '../contract/errors.ts';
import { readModelDir } from './sign-model-dir.ts';

export interface ServerTarget {
  readonly url: string;
  readonly token: string;
}

export function serverTarget(url: string | undefined, token: string | undefined): ServerTarget {
  const u = url ?? process.env.JUKEBOX_SERVER ?? 'http://127.0.0.1:8787';
  const t = token ?? process.env.JUKEBOX_ADMIN_TOKEN;
  if (!t)
    throw new Error('an admin token is required: --token T or JUKEBOX_ADMIN_TOKEN (printed at the first npm start)');
  return { url: u.replace(/\/+$/, ''), token: t };
}

export async function callServer(target: ServerTarget, method: string, path: string, body?: unknown): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${target.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${target.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  } catch (cause) {
    throw new Error(`${describeError('network-error')} (${target.url})`, { cause });
  }
  const text = await res.text();
  const json = text ? (JSON.parse(text) as unknown) : null;
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string; details?: unknown } } | null)?.error;
    const detail = e?.details === undefined ? '' : ` ${JSON.stringify(e.details)}`;
    throw new Error(`${res.status} ${e?.code ?? ''}: ${e?.message ?? describeError(e?.code ?? 'internal')}${detail}`);
  }
  return json;
}

/** Uploads a (signed) model folder: manifest + every file it lists, base64. */
export async function publishModelDir(target: ServerTarget, dir: string): Promise<unknown> {
  const { manifest, files } = await readModelDir(dir);
  const encoded = Object.fromEntries([...files].map(([p, b]) => [p, Buffer.from(b).toString('base64')]));
  return callServer(target, 'POST', '/models', { manifest, files: encoded });
}
