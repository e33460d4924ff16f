import type { Connection } from '../../store/connection.js';
import { revokeGrant, type RevocationOutcome } from '../../tokens/revoke.js';
import type { ConsentContext } from '../protocol.js';

/**
 * Revokes the connection's refresh token (else its access token) at the bank's revocation endpoint (RFC 7009), when
 * the bank has one. Never throws: the outcome is reported, the connection is forgotten whatever it is.
 */
export function revokeTokens(context: ConsentContext, connection: Connection): Promise<RevocationOutcome> {
  return revokeGrant(context.oauth, context.log, connection);
}
