import * as oauth from 'oauth4webapi';
import type { JoseSigningKey } from './signing-key.js';

/**
 * The DPoP handle of a bank (RFC 9449): proofs signed with the configured key, server nonces remembered per
 * origin. oauth4webapi writes the proofs; the same handle signs token requests, PAR and bank calls
 * (dpop-transport.ts), so every token is bound to the one key every replica holds.
 */
export function dpopHandle(client: oauth.Client, key: JoseSigningKey): oauth.DPoPHandle {
  return oauth.DPoP(client, { privateKey: key.privateKey, publicKey: key.publicKey });
}
