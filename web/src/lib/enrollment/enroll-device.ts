/**
 * Trades a one-time enrollment code for this device's token
 * (`POST /api/v1/enroll`). Every way it can fail is a contract code: a bad,
 * used or expired code, too many tries, no network, an unexpected answer.
 */
import { EnrollResponseSchema } from '../../../../model/contract/api.ts';
import { normalizeEnrollmentCode } from '../../../../model/contract/enrollment-code.ts';
import { fail, ok, type Result } from '../../../../model/contract/errors.ts';

export const ENROLL_PATH = '/api/v1/enroll';

export type EnrollErrorCode =
  | 'enrollment-code-invalid'
  | 'device-exists'
  | 'device-revoked'
  | 'rate-limited'
  | 'network-error'
  | 'invalid-value'
  | 'validation-failed'
  | 'internal';

export interface EnrolledDevice {
  readonly deviceId: string;
  readonly token: string;
  /** The label's signing public key (JWK), when the server has one to pin. */
  readonly publicKey?: JsonWebKey;
  /** Present when the admin issued this code with a key reset (see key-pinning.ts). */
  readonly keyReset?: { at: string };
}

export async function enrollDevice(
  request: { code: string; deviceId: string; label?: string },
  options: { baseUrl?: string; fetch?: typeof fetch } = {},
): Promise<Result<EnrolledDevice, EnrollErrorCode>> {
  const code = normalizeEnrollmentCode(request.code);
  if (code.length < 4 || code.length > 64) return fail('invalid-value', { field: 'code' });
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  let res: Response;
  try {
    res = await doFetch(`${options.baseUrl ?? ''}${ENROLL_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ code, deviceId: request.deviceId, ...(request.label ? { label: request.label } : {}) }),
    });
  } catch (err) {
    return fail('network-error', { cause: String(err) });
  }
  const body: unknown = await res.json().catch(() => null);
  if (res.ok) {
    const parsed = EnrollResponseSchema.safeParse(body);
    if (!parsed.success || parsed.data.deviceId !== request.deviceId) return fail('validation-failed', { body });
    const { deviceId, token, publicKey, keyReset } = parsed.data;
    return ok({
      deviceId,
      token,
      ...(publicKey ? { publicKey: publicKey as JsonWebKey } : {}),
      ...(keyReset ? { keyReset } : {}),
    });
  }
  const serverCode = (body as { error?: { code?: unknown } } | null)?.error?.code;
  if (serverCode === 'device-exists' || serverCode === 'device-revoked') return fail(serverCode);
  if (serverCode === 'enrollment-code-invalid' || res.status === 403) return fail('enrollment-code-invalid');
  if (serverCode === 'rate-limited' || res.status === 429) return fail('rate-limited');
  if (res.status === 400 || res.status === 422) return fail('invalid-value', { field: 'code' });
  return fail(res.status >= 500 ? 'internal' : 'network-error', { status: res.status });
}
