/**
 * Whether an enrollment may change the label key this device pins. The first enrollment pins the key it is given;
 * after that a different key is taken only when the admin issued this device's code with a key reset (the server
 * says so in `keyReset`, and the device shows it). Otherwise the pinned key stays and the device says why, so a
 * fresh code alone can never make it trust models signed by someone else.
 */
import { fail, ok, type Result } from '../../../../model/contract/errors.ts';

export type PinDecision =
  /** Nothing offered, or the same key: nothing to write. */
  | { readonly action: 'keep' }
  /** Nothing pinned yet: pin this one. */
  | { readonly action: 'pin'; readonly key: JsonWebKey }
  /** The admin reset the key for this device: replace it, and tell the person. */
  | { readonly action: 'replace'; readonly key: JsonWebKey; readonly resetAt: string };

/** Two public keys are the same key when their curve and point are (other JWK members are decoration). */
export function sameKey(a: JsonWebKey, b: JsonWebKey): boolean {
  return a.kty === b.kty && a.crv === b.crv && a.x === b.x && a.y === b.y;
}

/**
 * @example
 * decidePinnedKey(undefined, key, undefined)            // ok({ action: 'pin', key })
 * decidePinnedKey(key, otherKey, undefined)             // fail('label-key-changed')
 * decidePinnedKey(key, otherKey, { at: '2026-…' })      // ok({ action: 'replace', key: otherKey, resetAt })
 */
export function decidePinnedKey(
  pinned: JsonWebKey | undefined,
  offered: JsonWebKey | undefined,
  keyReset: { at: string } | undefined,
): Result<PinDecision, 'label-key-changed'> {
  if (!offered) return ok({ action: 'keep' });
  if (!pinned) return ok({ action: 'pin', key: offered });
  if (sameKey(pinned, offered)) return ok({ action: 'keep' });
  if (keyReset) return ok({ action: 'replace', key: offered, resetAt: keyReset.at });
  return fail('label-key-changed', { pinned: pinned.x, offered: offered.x });
}
