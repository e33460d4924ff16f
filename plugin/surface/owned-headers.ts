// UK Open Banking's x-jws-signature and x-idempotency-key are set by the gateway (consent/ukob/message-policy.ts).
const OWNED = new Set(['authorization', 'x-request-id', 'signature', 'digest', 'date', 'host', 'content-length', 'x-connection-id', 'x-jws-signature', 'x-idempotency-key']);

/**
 * Headers the gateway owns: a caller can never set them, whatever the spec declares. `TPP-*` headers speak
 * for the TPP (the gateway), so they come from the bank's header policy, not from callers.
 */
export function isOwnedHeader(lowerName: string): boolean {
  return OWNED.has(lowerName) || lowerName.startsWith('tpp-');
}
