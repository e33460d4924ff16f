import * as oauth from 'oauth4webapi';
import type { Logger } from '../log.js';
import type { Connection } from '../store/connection.js';
import type { BankOAuth } from './authorization-server.js';
import { bankOAuth, type TokenContext } from './context.js';
import { toOAuthError } from './oauth-error.js';

export type RevocationOutcome = 'revoked' | 'not_supported' | 'failed' | 'nothing_to_revoke';

/**
 * Revokes the connection's refresh token (else its access token) at the bank when the bank has a
 * revocation endpoint (RFC 7009). The caller forgets the connection whatever the outcome.
 */
export function revokeAtBank(context: TokenContext, connection: Connection): Promise<RevocationOutcome> {
  return revokeGrant(bankOAuth(context, connection.bank), context.log, connection);
}

/** The revocation itself, through the bank's OAuth side (the token engine's or a consent protocol's). Never throws. */
export async function revokeGrant(bankSide: BankOAuth, log: Logger, connection: Connection): Promise<RevocationOutcome> {
  const token = connection.tokens?.refreshToken ?? connection.tokens?.accessToken;
  if (!token) return 'nothing_to_revoke';
  try {
    const as = await bankSide.metadata();
    if (!as.revocation_endpoint) return 'not_supported';
    const response = await oauth.revocationRequest(as, bankSide.client, bankSide.clientAuth, token, bankSide.requestOptions);
    await oauth.processRevocationResponse(response);
    return 'revoked';
  } catch (error) {
    const failure = toOAuthError(connection.bank, 'token revocation', error);
    log.warn('connection.revoke_failed', { bank: connection.bank, connectionId: connection.id, detail: failure.message });
    return 'failed';
  }
}
