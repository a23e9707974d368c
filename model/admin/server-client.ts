/**
 * The admin CLI's (and the pipeline's `--from-server`) view of the server's API: the contract's `apiClient`
 * for one server and admin token. Answers come back parsed by their endpoint's schema; a failure is thrown as
 * an Error that says the status, the contract code and its words.
 */
import { type ApiFailure, type ApiValue, apiClient, type CallInit } from '../client/api-client.ts';
import type { EndpointName } from '../contract/endpoints.ts';
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

function failed(target: ServerTarget, name: string, r: ApiFailure): Error {
  if (r.status === 0) return new Error(`${describeError('network-error')} (${target.url})`, { cause: r.details });
  const detail = r.details === undefined ? '' : ` ${JSON.stringify(r.details)}`;
  return new Error(`${r.status} ${r.code}: ${r.message}${detail} (${name})`);
}

/** Calls an endpoint of the table as admin; resolves to its parsed answer. */
export async function callServer<N extends EndpointName>(
  target: ServerTarget,
  name: N,
  init: CallInit<N> = {},
): Promise<ApiValue<N>> {
  const r = await apiClient(target.url, target.token).call(name, init);
  if (!r.ok) throw failed(target, name, r);
  return r.value;
}

/** An endpoint's answer as bytes (the outcome export, a model's manifest or file). */
export async function serverBytes<N extends EndpointName>(
  target: ServerTarget,
  name: N,
  init: CallInit<N> = {},
): Promise<Uint8Array> {
  const r = await apiClient(target.url, target.token).open(name, init);
  if (!r.ok) throw failed(target, name, r);
  return new Uint8Array(await r.value.arrayBuffer());
}

/** The URL of an endpoint on this server (recorded as a data source). */
export function serverUrl<N extends EndpointName>(target: ServerTarget, name: N): string {
  return apiClient(target.url, target.token).url(name);
}

/** Uploads a (signed) model folder: manifest + every file it lists, base64. */
export async function publishModelDir(target: ServerTarget, dir: string): Promise<ApiValue<'publishModel'>> {
  const { manifest, files } = await readModelDir(dir);
  const encoded = Object.fromEntries([...files].map(([p, b]) => [p, Buffer.from(b).toString('base64')]));
  return callServer(target, 'publishModel', { json: { manifest, files: encoded } });
}
