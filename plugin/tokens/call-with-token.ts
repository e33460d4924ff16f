import type { Connection } from '../store/connection.js';
import type { BankResponse } from '../transport/types.js';
import type { TokenContext } from './context.js';
import { psuAccessToken, refreshOnce } from './psu-access-token.js';
import type { SingleFlight } from './single-flight.js';
import { TOKEN_METRICS } from './token-metrics.js';
import { usableTokens } from './usable-tokens.js';

/** Sends one bank call with the given bearer token. */
export type SendWithToken = (token: string) => Promise<BankResponse>;

/**
 * Calls the bank with the connection's token. A 401 to a token the gateway holds valid (revoked at the
 * bank, or bound to a certificate the bank no longer sees) forces one refresh (single-flight, and the
 * cross-replica lock) and, for an idempotent call, one retry with the new token. Never more: a second 401
 * is the bank's answer. A non-idempotent call is not repeated (the bank may have acted on it); its 401 is
 * returned, and the next call uses the refreshed token.
 */
export async function callWithPsuToken(context: TokenContext, refreshes: SingleFlight<Connection>, connection: Connection, idempotent: boolean, send: SendWithToken, requestId?: string): Promise<BankResponse> {
  const current = psuAccessToken(context, refreshes, connection, requestId);
  const token = typeof current === 'string' ? current : await current;
  const response = await send(token);
  if (response.status !== 401) return response;
  context.metrics.inc(TOKEN_METRICS.rejected, { bank: connection.bank, kind: 'psu' });
  context.log.warn('token.rejected_by_bank', { requestId, bank: connection.bank, connectionId: connection.id, retry: idempotent });
  const refreshing = refreshOnce(context, refreshes, connection, { rejectedAccessToken: token, requestId });
  if (!idempotent) {
    refreshing.catch(() => {}); // reported by the refresh itself; this call returns the bank's answer
    return response;
  }
  const fresh = usableTokens(await refreshing).accessToken;
  // A refresh that produced no new token (e.g. joined a flight that found nothing to do) is not retried.
  return fresh === token ? response : send(fresh);
}

/** Like `callWithPsuToken` for the TPP's client-credentials token: a 401 drops the cached token once. */
export async function callWithClientToken(
  context: TokenContext,
  token: (forceNew: boolean) => Promise<string>,
  bank: string,
  idempotent: boolean,
  send: SendWithToken,
  requestId?: string,
): Promise<BankResponse> {
  const first = await token(false);
  const response = await send(first);
  if (response.status !== 401) return response;
  context.metrics.inc(TOKEN_METRICS.rejected, { bank, kind: 'client' });
  context.log.warn('token.rejected_by_bank', { requestId, bank, kind: 'client', retry: idempotent });
  const fresh = token(true);
  if (!idempotent) {
    fresh.catch(() => {});
    return response;
  }
  const second = await fresh;
  return second === first ? response : send(second);
}
