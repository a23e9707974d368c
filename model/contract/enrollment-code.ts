/**
 * Enrollment codes: one-time codes an admin hands to a device, read aloud and typed on phones. One canonical form
 * (`ABCD-EFGH-JKMN`) so the server, the app and the admin's link agree whatever the person typed.
 */

/** Easy to read aloud: no 0/O/1/I. 12 symbols of 32 = 60 bits. */
export const ENROLLMENT_CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
export const ENROLLMENT_CODE_LENGTH = 12;

/** Symbols a person may type for one that the alphabet leaves out because they look alike. */
const LOOK_ALIKES: Readonly<Record<string, string>> = { O: '0', I: '1' };

/**
 * The canonical form of a typed code: case, spaces, dashes and other separators are forgiven, and a code of the
 * right length is grouped 4-4-4 as the admin sees it. Anything else is returned upper-cased and unseparated, so
 * the server can still refuse it with a clear error.
 *
 * @example
 * normalizeEnrollmentCode(' abcd efgh-jkmn ') // 'ABCD-EFGH-JKMN'
 * normalizeEnrollmentCode('ABCDEFGHJKMN')     // 'ABCD-EFGH-JKMN'
 */
export function normalizeEnrollmentCode(typed: string): string {
  const symbols = typed
    .normalize('NFKC')
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, '');
  if (symbols.length !== ENROLLMENT_CODE_LENGTH) return symbols;
  return `${symbols.slice(0, 4)}-${symbols.slice(4, 8)}-${symbols.slice(8)}`;
}

/** Whether a typed code could be a code at all (after normalising): the right length and only the alphabet. */
export function isWellFormedEnrollmentCode(typed: string): boolean {
  const code = normalizeEnrollmentCode(typed).replace(/-/g, '');
  if (code.length !== ENROLLMENT_CODE_LENGTH) return false;
  return [...code].every((ch) => ENROLLMENT_CODE_ALPHABET.includes(ch) && !(ch in LOOK_ALIKES));
}
