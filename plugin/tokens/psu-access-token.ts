import { storageIdOf, type Connection } from '../store/connection.js';
import { bankOAuth, type TokenContext } from './context.js';
import { stoppingError } from './in-flight-work.js';
import { refreshConnection, type RefreshReason } from './refresh.js';
import type { SingleFlight } from './single-flight.js';
import { freshnessOf } from './token-set.js';
import { usableTokens } from './usable-tokens.js';

/**
 * A usable access token for a PSU connection. Fresh tokens are returned as they are; within the skew
 * margin a background refresh starts and the still-valid token is used; an expired token (or one obtained
 * under another client certificate) waits for the refresh. One refresh per connection at a time in this
 * process (single-flight) and across replicas (the store's lock, see refresh.ts). A token in hand is
 * returned as is, not as a promise: the common case of every bank call costs no microtask.
 */
export function psuAccessToken(context: TokenContext, refreshes: SingleFlight<Connection>, connection: Connection, requestId?: string): string | Promise<string> {
  const tokens = usableTokens(connection);
  const bankSide = bankOAuth(context, connection.bank);
  const freshness = freshnessOf(tokens, context.now(), bankSide.bank.refreshSkewSeconds, bankSide.certificateThumbprint());
  if (freshness === 'fresh') return tokens.accessToken;
  const refreshing = refreshOnce(context, refreshes, connection, { requestId });
  if (freshness === 'refresh_soon') {
    refreshing.catch(() => {}); // a failed early refresh is retried on the next call; the token is still good
    return tokens.accessToken;
  }
  return refreshing.then((refreshed) => usableTokens(refreshed).accessToken);
}

/**
 * The in-process single-flight in front of the cross-replica refresh. While the gateway stops (`context.work`
 * draining) no new refresh starts (503, retryable); a call joins one already running, which the stop waits for.
 */
export function refreshOnce(context: TokenContext, refreshes: SingleFlight<Connection>, connection: Connection, reason: RefreshReason = {}): Promise<Connection> {
  const storageId = storageIdOf(connection);
  const { work } = context;
  if (!work) return refreshes.run(storageId, () => refreshConnection(context, storageId, reason));
  if (work.stopping && !refreshes.running(storageId)) return Promise.reject(stoppingError(connection.bank, connection.id));
  return refreshes.run(storageId, () => work.track(refreshConnection(context, storageId, reason)));
}
