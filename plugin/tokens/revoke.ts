import * as oauth from 'oauth4webapi';
import type { Connection } from '../store/connection.js';
import { bankOAuth, type TokenContext } from './context.js';
import { toOAuthError } from './oauth-error.js';

export type RevocationOutcome = 'revoked' | 'not_supported' | 'failed' | 'nothing_to_revoke';

/**
 * Revokes the connection's refresh token (else its access token) at the bank when the bank has a
 * revocation endpoint (RFC 7009). The caller forgets the connection whatever the outcome.
 */
export async function revokeAtBank(context: TokenContext, connection: Connection): Promise<RevocationOutcome> {
  const token = connection.tokens?.refreshToken ?? connection.tokens?.accessToken;
  if (!token) return 'nothing_to_revoke';
  const bankSide = bankOAuth(context, connection.bank);
  try {
    const as = await bankSide.metadata();
    if (!as.revocation_endpoint) return 'not_supported';
    const response = await oauth.revocationRequest(as, bankSide.client, bankSide.clientAuth, token, bankSide.requestOptions);
    await oauth.processRevocationResponse(response);
    return 'revoked';
  } catch (error) {
    const failure = toOAuthError(connection.bank, 'token revocation', error);
    context.log.warn('connection.revoke_failed', { bank: connection.bank, connectionId: connection.id, detail: failure.message });
    return 'failed';
  }
}
