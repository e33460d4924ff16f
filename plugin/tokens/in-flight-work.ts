import { BankgateError } from '../errors/bankgate-error.js';

/** What a drain ended with: `drained` false when the bound ran out with work still running (`left` of it). */
export interface DrainOutcome {
  readonly drained: boolean;
  readonly left: number;
  readonly ms: number;
}

/**
 * The token work of one gateway that must not be cut off by a graceful stop (issue 15, brief s21): refreshes
 * in flight (the bank may rotate the refresh token: its answer must reach the store or the journal) and what
 * follows them off the request's path (the journal entry's removal). `drain` stops new refreshes from starting
 * (`refusal`) and waits, bounded, for the running ones; the gateway closes its transports and store only after.
 */
export class InFlightWork {
  readonly #running = new Set<Promise<unknown>>();
  #stopping = false;
  /** When the first drain's bound runs out (performance.now() ms). */
  #deadline: number | undefined;

  /** True once a drain began: no new refresh starts. */
  get stopping(): boolean {
    return this.#stopping;
  }

  get size(): number {
    return this.#running.size;
  }

  /** Counts `work` as in flight until it settles; returns it unchanged. */
  track<T>(work: Promise<T>): Promise<T> {
    this.#running.add(work);
    const done = () => this.#running.delete(work);
    work.then(done, done);
    return work;
  }

  /**
   * Stops new work and waits until the running work settled (work it starts meanwhile included), at most
   * `timeoutMs` from the first drain. Never rejects.
   */
  async drain(timeoutMs: number): Promise<DrainOutcome> {
    this.#stopping = true;
    const started = performance.now();
    // One stop, one bound: a later drain (gateway.close() after stopGracefully's) ends by the first one's deadline.
    this.#deadline ??= started + timeoutMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bound = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), Math.max(0, this.#deadline! - started))));
    try {
      while (this.#running.size > 0) {
        const settled = Promise.allSettled([...this.#running]);
        if ((await Promise.race([settled, bound])) === 'timeout') break;
      }
    } finally {
      clearTimeout(timer);
    }
    return { drained: this.#running.size === 0, left: this.#running.size, ms: Math.round(performance.now() - started) };
  }
}

/**
 * The answer to a refresh asked for while the gateway stops: 503, retryable (another replica, or this one
 * restarted, serves it). Nothing was sent to the bank.
 */
export function stoppingError(bank: string, connectionId: string): BankgateError {
  return new BankgateError('token_refresh_failed', {
    status: 503,
    bank,
    detail: `the gateway is stopping and starts no new token refresh; connection ${connectionId} was not touched: retry (another replica serves it)`,
    extra: { connectionId, reason: 'gateway_stopping', retryable: true, retryAfterSeconds: 1 },
  });
}
