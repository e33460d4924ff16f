/** Random values from the runtime's CSPRNG (`crypto.getRandomValues`), as the core needs them. */
import { toBase64Url, toHex } from './base64.js';

/** `size` random bytes. */
export function randomBytes(size: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(size));
}

/** `size` random bytes as base64url: ids, dev keys. */
export function randomToken(size: number): string {
  return toBase64Url(randomBytes(size));
}

/** `size` random bytes as hex. */
export function randomHex(size: number): string {
  return toHex(randomBytes(size));
}
