/**
 * Which bank calls may be repeated, and how long to wait before the next attempt.
 *
 * Only idempotent calls are retried (RFC 9110 §9.2.2: GET, HEAD, PUT, DELETE, OPTIONS): a payment POST
 * repeated after a lost answer could pay twice. A POST is retried only when it carries the idempotency-key
 * header the bank's config declares it honours. Retried: 502/503/504 answers, and failures before an answer
 * (refused or reset connections, timeouts). Never retried: TLS and certificate failures (they will fail the
 * same way), oversize or undecodable bodies, and every other status (a 500 may have done the work).
 */
import { BankgateError } from '../errors/bankgate-error.js';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
export const RETRYABLE_STATUS = new Set([502, 503, 504]);
const RETRYABLE_CODES = new Set(['bank_unreachable', 'bank_timeout']);

/** Whether a request may be sent twice. `idempotencyKeyHeader` is lower-case. */
export function isRepeatable(method: string, headers: Readonly<Record<string, string>>, idempotencyKeyHeader: string | undefined): boolean {
  if (IDEMPOTENT.has(method)) return true;
  return idempotencyKeyHeader !== undefined && method === 'POST' && typeof headers[idempotencyKeyHeader] === 'string' && headers[idempotencyKeyHeader] !== '';
}

/**
 * A `bank_tls_error` without a TLS alert: the bank closed a fresh connection without a byte of answer. A
 * client certificate it refuses looks like this, but so does an answer dropped on a fresh connection whose
 * session ticket was not processed yet (a loaded machine): the request was written and may have been carried
 * out. Once is an unknown outcome; twice in a row on fresh connections it is what it most likely is, TLS.
 */
export function isSilentClose(error: unknown): boolean {
  if (!(error instanceof BankgateError) || error.code !== 'bank_tls_error') return false;
  const reason = String(error.extra?.reason ?? '');
  return reason === 'ERR_BANKGATE_TLS_HANDSHAKE_REJECTED' || reason === 'ECONNRESET';
}

/** Whether a failed attempt (thrown) is worth repeating. */
export function isRetryableError(error: unknown): boolean {
  return error instanceof BankgateError && RETRYABLE_CODES.has(error.code);
}

/**
 * Exponential backoff with full jitter (uniform in [0, min(max, base·2^attempt)]): spreads the retries of
 * many callers so a recovering bank is not hit by synchronised waves. `attempt` counts from 0.
 */
export function backoffMs(attempt: number, baseDelayMs: number, maxDelayMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

/**
 * The wait a bank asked for in `Retry-After` (delay-seconds or an HTTP date), if it fits within `maxDelayMs`;
 * undefined otherwise (then the backoff applies, or the answer is returned when the wait would be too long).
 */
export function retryAfterMs(value: string | string[] | undefined, maxDelayMs: number, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return undefined;
  const ms = /^\d+$/.test(text.trim()) ? Number(text.trim()) * 1000 : Date.parse(text) - now;
  return Number.isFinite(ms) && ms >= 0 && ms <= maxDelayMs ? ms : undefined;
}
