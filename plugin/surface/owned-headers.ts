// `consent-id` names the PSU's consent at the bank (Berlin Group): the gateway sets it from the connection. UK Open
// Banking's x-jws-signature and x-idempotency-key are set by the gateway too (consent/ukob/message-policy.ts).
const OWNED = new Set(['authorization', 'x-request-id', 'signature', 'digest', 'date', 'host', 'content-length', 'x-connection-id', 'consent-id', 'x-jws-signature', 'x-idempotency-key']);

/** Headers that name the PSU's consent: an operation requiring one acts for a connection, whatever its security says. */
export const CONSENT_HEADERS: readonly string[] = ['consent-id'];

/**
 * Headers the gateway owns: a caller can never set them, whatever the spec declares. `TPP-*` headers speak
 * for the TPP (the gateway), so they come from the bank's header policy, not from callers.
 */
export function isOwnedHeader(lowerName: string): boolean {
  return OWNED.has(lowerName) || lowerName.startsWith('tpp-');
}
