import { BankgateError } from '../errors/bankgate-error.js';
import type { Connection, TokenSet } from '../store/connection.js';

/** The connection's token set, or the error that tells the caller why there is none to use. */
export function usableTokens(connection: Connection): TokenSet {
  if (connection.status === 'reconsent_required') {
    throw new BankgateError('reconsent_required', {
      status: 409,
      bank: connection.bank,
      detail: `connection ${connection.id} needs the PSU's consent again (${connection.reason?.detail ?? 'the bank no longer accepts its refresh token'}): POST /connections with this connectionId`,
      extra: { connectionId: connection.id },
    });
  }
  if (!connection.tokens) {
    throw new BankgateError('connection_pending', { status: 409, bank: connection.bank, detail: `connection ${connection.id} has no consent yet: the PSU must finish the redirect first`, extra: { connectionId: connection.id } });
  }
  return connection.tokens;
}
