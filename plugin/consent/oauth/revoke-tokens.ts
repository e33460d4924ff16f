import * as oauth from 'oauth4webapi';
import type { Connection } from '../../store/connection.js';
import { toOAuthError } from '../../tokens/oauth-error.js';
import type { RevocationOutcome } from '../../tokens/revoke.js';
import type { ConsentContext } from '../protocol.js';

/**
 * Revokes the connection's refresh token (else its access token) at the bank's revocation endpoint (RFC 7009), when
 * the bank has one. Never throws: the outcome is reported, the connection is forgotten whatever it is.
 */
export async function revokeTokens(context: ConsentContext, connection: Connection): Promise<RevocationOutcome> {
  const token = connection.tokens?.refreshToken ?? connection.tokens?.accessToken;
  if (!token) return 'nothing_to_revoke';
  try {
    const as = await context.oauth.metadata();
    if (!as.revocation_endpoint) return 'not_supported';
    const response = await oauth.revocationRequest(as, context.oauth.client, context.oauth.clientAuth, token, context.oauth.requestOptions);
    await oauth.processRevocationResponse(response);
    return 'revoked';
  } catch (error) {
    const failure = toOAuthError(connection.bank, 'token revocation', error);
    context.log.warn('connection.revoke_failed', { bank: connection.bank, connectionId: connection.id, detail: failure.message });
    return 'failed';
  }
}
