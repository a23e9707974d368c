/**
 * Trades a one-time enrollment code for this device's token
 * (`POST /api/v1/enroll`). Every way it can fail is a contract code: a bad,
 * used or expired code, too many tries, no network, an unexpected answer.
 */
import { apiClient } from '../../../../model/client/api-client.ts';
import { normalizeEnrollmentCode } from '../../../../model/contract/enrollment-code.ts';
import { fail, ok, type Result } from '../../../../model/contract/errors.ts';

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
  const client = apiClient(options.baseUrl ?? '', null, options.fetch ? { fetch: options.fetch } : {});
  const res = await client.call('enroll', {
    json: { code, deviceId: request.deviceId, ...(request.label ? { label: request.label } : {}) },
    headers: { accept: 'application/json' },
  });
  if (res.ok) {
    if (res.value.deviceId !== request.deviceId) return fail('validation-failed', { body: res.value });
    const { deviceId, token, publicKey, keyReset } = res.value;
    return ok({
      deviceId,
      token,
      ...(publicKey ? { publicKey: publicKey as JsonWebKey } : {}),
      ...(keyReset ? { keyReset } : {}),
    });
  }
  if (res.status === 0) return fail('network-error', { cause: String(res.details) });
  // The client answers an unparseable success with 'invalid-value'/'invalid-json' and a 2xx status.
  if (res.status >= 200 && res.status < 300) return fail('validation-failed', { body: res.body });
  const serverCode = res.code;
  if (serverCode === 'device-exists' || serverCode === 'device-revoked') return fail(serverCode);
  if (serverCode === 'enrollment-code-invalid' || res.status === 403) return fail('enrollment-code-invalid');
  if (serverCode === 'rate-limited' || res.status === 429) return fail('rate-limited');
  if (res.status === 400 || res.status === 422) return fail('invalid-value', { field: 'code' });
  return fail(res.status >= 500 ? 'internal' : 'network-error', { status: res.status });
}
