import * as oauth from 'oauth4webapi';
import type { JoseSigningKey } from './signing-key.js';

/**
 * `private_key_jwt` client authentication (RFC 7523 §2.2, OpenID Connect Core §9): a client assertion signed with
 * the key (PS256 or ES256, `kid` in its header), `aud` the issuer as FAPI 2.0 requires, a new `jti` and a 60 s
 * lifetime per request. oauth4webapi writes and signs it.
 * @example const clientAuth = privateKeyJwt(await importSigningKey(pem, { keyId: 'kid-1', path: 'banks.ukob.client.auth' }));
 */
export function privateKeyJwt(key: JoseSigningKey): oauth.ClientAuth {
  return oauth.PrivateKeyJwt({ key: key.privateKey, kid: key.keyId });
}
