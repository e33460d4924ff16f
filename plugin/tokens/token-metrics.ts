import type { MetricsRegistry } from '../observability/metrics.js';

/** Outcome of one refresh of a PSU token, as counted in `bankgate_token_refresh_total{bank,outcome}`. */
export type RefreshOutcome =
  /** This replica refreshed at the bank and stored the result. */
  | 'refreshed'
  /** Refreshed at the second try, after an unknown outcome (timeout, 5xx, lost response). */
  | 'refreshed_after_retry'
  /** Another request or replica refreshed meanwhile: its token was used, no request to the bank. */
  | 'shared'
  /** The bank refused the refresh token, or two attempts had no known outcome: the PSU must consent again. */
  | 'reconsent_required'
  /** A definite failure (bank unreachable, client refused): the connection stays as it was. */
  | 'failed';

export const TOKEN_METRICS = {
  refreshes: 'bankgate_token_refresh_total',
  unknownOutcomes: 'bankgate_token_refresh_unknown_outcome_total',
  lockWait: 'bankgate_token_lock_wait_seconds',
  rejected: 'bankgate_token_rejected_by_bank_total',
  clientCredentials: 'bankgate_token_client_credentials_total',
} as const;

/** Declares the token engine's metrics with their help texts (label values: bank names and outcomes only). */
export function describeTokenMetrics(metrics: MetricsRegistry): void {
  metrics.describe(TOKEN_METRICS.refreshes, 'counter', 'PSU token refreshes by bank and outcome (refreshed, refreshed_after_retry, shared, reconsent_required, failed)');
  metrics.describe(TOKEN_METRICS.unknownOutcomes, 'counter', 'Refresh requests whose outcome was unknown (timeout, 5xx, lost response), by bank');
  metrics.describe(TOKEN_METRICS.lockWait, 'histogram', 'Seconds a request waited for the refresh lock of a connection (another request or replica refreshing)');
  metrics.describe(TOKEN_METRICS.rejected, 'counter', 'Bank calls answered 401 to a token the gateway held valid, by bank and token kind');
  metrics.describe(TOKEN_METRICS.clientCredentials, 'counter', 'Client-credentials token requests by bank and outcome');
}
