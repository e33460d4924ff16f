import * as oauth from 'oauth4webapi';
import { BankgateError } from '../errors/bankgate-error.js';
import type { Connection } from '../store/connection.js';
import { bankOAuth, type TokenContext } from './context.js';
import { isInvalidGrant, toOAuthError } from './oauth-error.js';
import type { SingleFlight } from './single-flight.js';
import { refreshAt, toTokenSet } from './token-set.js';

/**
 * A usable access token for a PSU connection. Fresh tokens are returned as they are; within the skew
 * margin a background refresh starts and the still-valid token is used; an expired token waits for the
 * refresh. One refresh per connection at a time: everyone asking meanwhile gets its result.
 */
export async function psuAccessToken(context: TokenContext, refreshes: SingleFlight<Connection>, connection: Connection): Promise<string> {
  const tokens = usableTokens(connection);
  const now = context.now();
  const skew = bankOAuth(context, connection.bank).bank.refreshSkewSeconds;
  if (now < refreshAt(tokens, skew)) return tokens.accessToken;
  const refreshing = refreshes.run(connection.id, () => refresh(context, connection.id));
  if (now < tokens.expiresAt) {
    refreshing.catch(() => {}); // a failed early refresh is retried on the next call; the token is still good
    return tokens.accessToken;
  }
  const refreshed = await refreshing;
  return usableTokens(refreshed).accessToken;
}

function usableTokens(connection: Connection) {
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

async function refresh(context: TokenContext, connectionId: string): Promise<Connection> {
  // Re-read: another request may have refreshed while this one was queued.
  const current = await context.store.get(connectionId);
  if (!current) throw new BankgateError('connection_not_found', { status: 404, detail: `connection ${connectionId} does not exist` });
  const tokens = usableTokens(current);
  const bankSide = bankOAuth(context, current.bank);
  if (context.now() < refreshAt(tokens, bankSide.bank.refreshSkewSeconds)) return current;
  if (!tokens.refreshToken) return markReconsent(context, current, 'the bank issued no refresh token and the access token expired');

  const started = context.now();
  try {
    const as = await bankSide.metadata();
    const response = await oauth.refreshTokenGrantRequest(as, bankSide.client, bankSide.clientAuth, tokens.refreshToken, bankSide.requestOptions);
    const result = await oauth.processRefreshTokenResponse(as, bankSide.client, response);
    const refreshed: Connection = { ...current, tokens: toTokenSet(result, context.now(), tokens.refreshToken), updatedAt: context.now() };
    await context.store.put(refreshed);
    context.log.info('token.refreshed', { bank: current.bank, connectionId: current.id, ms: context.now() - started });
    return refreshed;
  } catch (error) {
    if (isInvalidGrant(error)) return markReconsent(context, current, 'the bank rejected the refresh token (invalid_grant)');
    const failure = toOAuthError(current.bank, 'token refresh', error);
    context.log.warn('token.refresh_failed', { bank: current.bank, connectionId: current.id, code: failure.code, detail: failure.message });
    throw new BankgateError('token_refresh_failed', { status: 502, bank: current.bank, detail: failure.message, cause: failure, extra: { connectionId: current.id } });
  }
}

async function markReconsent(context: TokenContext, connection: Connection, detail: string): Promise<never> {
  const marked: Connection = { ...connection, status: 'reconsent_required', updatedAt: context.now(), reason: { code: 'reconsent_required', detail } };
  await context.store.put(marked);
  context.log.warn('connection.reconsent_required', { bank: connection.bank, connectionId: connection.id, detail });
  return usableTokens(marked) as never;
}
