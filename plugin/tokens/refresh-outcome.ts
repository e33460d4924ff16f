import * as oauth from 'oauth4webapi';
import { BankgateError } from '../errors/bankgate-error.js';

/**
 * What a refresh attempt tells about the refresh token:
 * - `invalid_grant`: the bank says it is dead;
 * - `unknown`: the bank may have rotated it and we never saw the answer (timeout, connection lost after the
 *   request was sent, 5xx, an unreadable 200);
 * - `failed`: the request provably did not reach the token logic (connection refused, TLS handshake
 *   rejected, client authentication refused): the token is as good as before.
 */
export type AttemptFailure = 'invalid_grant' | 'unknown' | 'failed';

/** Transport reasons that mean the request never left: nothing at the bank can have changed. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

export function classifyAttemptFailure(error: unknown): AttemptFailure {
  if (error instanceof oauth.ResponseBodyError) {
    if (error.error === 'invalid_grant') return 'invalid_grant';
    return error.status >= 500 ? 'unknown' : 'failed';
  }
  if (error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError')) return 'unknown';
  if (error instanceof BankgateError) {
    if (error.code === 'bank_timeout') return 'unknown';
    // Closed after the handshake without a byte or an alert: a rejected client certificate looks like this,
    // but so does a dropped answer on a fresh connection whose session ticket was not processed yet (a
    // loaded machine): the request was written, the bank may have rotated the token.
    if (isSilentClose(error)) return 'unknown';
    if (error.code === 'bank_unreachable') return NOT_SENT.has(String(error.extra?.reason)) ? 'failed' : 'unknown';
    return 'failed';
  }
  // A 200 oauth4webapi cannot read: the bank did the work (and may have rotated) but we lost the result.
  if (error instanceof oauth.OperationProcessingError) return 'unknown';
  return 'unknown';
}

/**
 * A `bank_tls_error` without a TLS alert: the bank closed a fresh connection without answering. Ambiguous
 * (see `classifyAttemptFailure`); twice in a row it is taken for what it most likely is, a TLS problem.
 */
export function isSilentClose(error: unknown): boolean {
  if (!(error instanceof BankgateError) || error.code !== 'bank_tls_error') return false;
  const reason = String(error.extra?.reason ?? '');
  return reason === 'ERR_BANKGATE_TLS_HANDSHAKE_REJECTED' || reason === 'ECONNRESET';
}

/** Thrown by a refresh attempt when the bank answered 5xx: the outcome is unknown. */
export class BankServerError extends Error {
  readonly code = 'ERR_BANKGATE_TOKEN_ENDPOINT_5XX';
  constructor(readonly status: number) {
    super(`token endpoint answered HTTP ${status}`);
    this.name = 'BankServerError';
  }
}
