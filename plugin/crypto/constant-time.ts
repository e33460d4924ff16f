/**
 * Compares two byte strings in time that depends only on their length, not on where they first differ (what
 * `node:crypto` `timingSafeEqual` does, without Node). Callers compare digests, so lengths are public.
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!;
  return difference === 0;
}
