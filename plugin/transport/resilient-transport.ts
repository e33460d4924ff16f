/**
 * Retries and the circuit breaker around any `BankTransport` (Node or edge): the policy lives here once,
 * the transports stay single-attempt. `fetch` (token endpoints) is passed through: the token engine has its
 * own rules for repeating a token request (a refresh must never be blindly repeated).
 */
import { BankgateError } from '../errors/bankgate-error.js';
import type { Logger } from '../log.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import { CIRCUIT_STATE_VALUE, CircuitBreaker, type CircuitState } from './circuit-breaker.js';
import { backoffMs, isRepeatable, isRetryableError, isSilentClose, RETRYABLE_STATUS, retryAfterMs } from './retry-policy.js';
import type { BankRequest, BankResponse, BankTransport } from './types.js';

export interface ResilienceOptions {
  readonly bank: string;
  readonly retries: { readonly max: number; readonly baseDelayMs: number; readonly maxDelayMs: number };
  /** Lower-case name of the header that makes a POST repeatable at this bank. */
  readonly idempotencyKeyHeader?: string;
  readonly breaker: {
    readonly enabled: boolean;
    readonly failureThreshold: number;
    readonly failureRate: number;
    readonly windowSize: number;
    readonly coolDownMs: number;
    readonly maxCoolDownMs?: number;
  };
  readonly metrics?: MetricsRegistry;
  readonly log?: Logger;
  readonly now?: () => number;
  readonly random?: () => number;
}

/** Statuses that mean the bank itself is failing: they count against the breaker. */
const BANK_FAILURE_STATUS = new Set([500, 502, 503, 504]);
/** Transport failures that mean the bank is down or overloaded (not a TLS or config mistake of ours). */
const BANK_FAILURE_CODES = new Set(['bank_unreachable', 'bank_timeout']);

export const RETRIES_METRIC = 'bankgate_bank_retries_total';
export const CIRCUIT_STATE_METRIC = 'bankgate_circuit_state';
export const CIRCUIT_REJECTED_METRIC = 'bankgate_circuit_rejected_total';

/**
 * Wraps a transport with retries (idempotent calls only, exponential backoff with full jitter, `Retry-After`
 * honoured when it fits in `maxDelayMs`) and a circuit breaker that answers `bank_circuit_open` (503) while
 * the bank is considered down. Metrics: `bankgate_bank_retries_total{bank,reason}`,
 * `bankgate_circuit_state{bank}` (0 closed, 1 open, 2 half-open), `bankgate_circuit_rejected_total{bank}`.
 */
export function withResilience(transport: BankTransport, options: ResilienceOptions): BankTransport {
  const { bank, retries, metrics, log } = options;
  const labels = { bank };
  const now = options.now ?? Date.now;
  metrics?.describe(RETRIES_METRIC, 'counter', 'Bank calls repeated after a retryable failure, by bank and reason (status or error code)');
  metrics?.describe(CIRCUIT_STATE_METRIC, 'gauge', 'Circuit breaker state per bank: 0 closed, 1 open, 2 half-open');
  metrics?.describe(CIRCUIT_REJECTED_METRIC, 'counter', 'Bank calls refused without trying because the circuit was open');
  const breaker = options.breaker.enabled
    ? new CircuitBreaker({
        ...options.breaker,
        now,
        onStateChange(state: CircuitState) {
          metrics?.set(CIRCUIT_STATE_METRIC, labels, CIRCUIT_STATE_VALUE[state]);
          (state === 'open' ? log?.warn : log?.info)?.('bank.circuit', { bank, state });
        },
      })
    : undefined;
  if (breaker) metrics?.set(CIRCUIT_STATE_METRIC, labels, 0);

  function circuitOpen(retryAt: number): BankgateError {
    metrics?.inc(CIRCUIT_REJECTED_METRIC, labels);
    const retryAfterSeconds = Math.max(1, Math.ceil((retryAt - now()) / 1000));
    return new BankgateError('bank_circuit_open', {
      status: 503,
      bank,
      detail:
        `bank ${bank} failed repeatedly, so bankgate stops calling it for a while (circuit open); ` +
        `it tries again in about ${retryAfterSeconds} s. See bankgate_circuit_state and banks.${bank}.transport.breaker`,
      extra: { retryAfterSeconds },
    });
  }

  function outcomeUnknown(error: BankgateError): BankgateError {
    return new BankgateError('bank_outcome_unknown', {
      status: 502,
      bank,
      detail:
        `bank ${bank} closed the connection without answering after the request was sent: whether it carried the call out ` +
        `is unknown; check (e.g. the payment's status) before sending it again. If every call fails this way, check banks.${bank}.mtls`,
      cause: error,
      extra: { ...(error.extra ?? {}), retryable: false },
    });
  }

  async function wait(ms: number, request: BankRequest, reason: string): Promise<void> {
    metrics?.inc(RETRIES_METRIC, { bank, reason });
    if (ms > 0) await sleep(ms, request.signal);
  }

  async function send(request: BankRequest): Promise<BankResponse> {
    const idempotent = isRepeatable(request.method, request.headers, options.idempotencyKeyHeader);
    const repeatable = retries.max > 0 && idempotent;
    let closedSilently = false;
    for (let attempt = 0; ; attempt++) {
      const permit = breaker?.tryAcquire();
      if (permit !== undefined && !permit.allowed) throw circuitOpen(permit.retryAt);
      const probe = permit?.probe === true;
      let response: BankResponse;
      try {
        response = await transport.send(request);
      } catch (error) {
        if (request.signal?.aborted) {
          breaker?.release(probe);
          throw error;
        }
        breaker?.record(!(error instanceof BankgateError && BANK_FAILURE_CODES.has(error.code)), probe);
        if (isSilentClose(error)) {
          // Closed without a byte on a fresh connection: a dropped answer or a refused certificate (see
          // isSilentClose). Repeated once when that is safe; a second silent close stays the TLS error.
          if (!idempotent) throw outcomeUnknown(error as BankgateError);
          if (repeatable && !closedSilently) {
            closedSilently = true;
            await wait(0, request, 'silent_close');
            continue;
          }
          throw error;
        }
        if (!repeatable || attempt >= retries.max || !isRetryableError(error)) throw error;
        await wait(backoffMs(attempt, retries.baseDelayMs, retries.maxDelayMs, options.random), request, (error as BankgateError).code);
        continue;
      }
      breaker?.record(!BANK_FAILURE_STATUS.has(response.status), probe);
      if (!repeatable || attempt >= retries.max || !RETRYABLE_STATUS.has(response.status)) return response;
      const asked = response.headers['retry-after'];
      const delay = asked === undefined ? backoffMs(attempt, retries.baseDelayMs, retries.maxDelayMs, options.random) : retryAfterMs(asked, retries.maxDelayMs);
      // The bank asked for a longer pause than we may wait: its answer is the caller's to act on.
      if (delay === undefined) return response;
      await wait(delay, request, String(response.status));
    }
  }

  return {
    send,
    fetch: transport.fetch,
    close: () => transport.close(),
    ...(transport.clientCertificateThumbprint ? { clientCertificateThumbprint: transport.clientCertificateThumbprint } : {}),
  };
}

/** Waits `ms`; rejects with the signal's reason as soon as it aborts (no retry outlives its caller). */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
