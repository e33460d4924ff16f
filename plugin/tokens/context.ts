import { BankgateError } from '../errors/bankgate-error.js';
import { withFields, type Logger } from '../log.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import type { ConnectionStore } from '../store/connection.js';
import type { BankOAuth } from './authorization-server.js';
import type { InFlightWork } from './in-flight-work.js';

/** What the token operations share: each bank's OAuth side, the store, the clock, the log and the metrics. */
export interface TokenContext {
  readonly banks: ReadonlyMap<string, BankOAuth>;
  readonly store: ConnectionStore;
  readonly now: () => number;
  readonly log: Logger;
  readonly metrics: MetricsRegistry;
  /** How long a refresh lock is held at most: a replica that dies holding it delays the others this long. */
  readonly lockTtlMs: number;
  /**
   * How long a refresh that took the lock over a dead holder's unresolved intent waits for that holder's
   * journaled answer before presenting the refresh token again (refresh-lock.ts `awaitHandover`); 0: no wait, and no
   * intent recorded (`store.handoverWaitSeconds`, default 0).
   */
  readonly handoverWaitMs: number;
  /** Names this process in lock owners (`host:pid:random`), so an operator can tell who holds a lock. */
  readonly replicaId: string;
  /** The refreshes a graceful stop waits for (token-engine.ts `drain`); without it nothing is tracked. */
  readonly work?: InFlightWork;
}

/** The context for work done on behalf of one inbound request: its log lines carry `requestId`. */
export function forRequest(context: TokenContext, requestId: string | undefined): TokenContext {
  return requestId === undefined ? context : { ...context, log: withFields(context.log, { requestId }) };
}

export function bankOAuth(context: TokenContext, bank: string): BankOAuth {
  const found = context.banks.get(bank);
  if (!found) {
    throw new BankgateError('unknown_bank', { status: 404, detail: `no bank named ${JSON.stringify(bank).slice(0, 60)} is configured; known: ${[...context.banks.keys()].join(', ')}` });
  }
  return found;
}
