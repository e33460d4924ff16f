import type { ResolvedBank } from '../config/resolve-config.js';
import { randomHex } from '../crypto/random.js';
import type { Logger } from '../log.js';
import { MetricsRegistry } from '../observability/metrics.js';
import { DEFAULT_LOCK_TTL_SECONDS } from '../store/config-schema.js';
import type { Connection, ConnectionStore, TokenSet } from '../store/connection.js';
import type { BankResponse, BankTransport } from '../transport/types.js';
import { createBankOAuth, type BankOAuth } from './authorization-server.js';
import { callWithClientToken, callWithPsuToken, type SendWithToken } from './call-with-token.js';
import { ClientCredentialsCache } from './client-credentials.js';
import { forRequest, type TokenContext } from './context.js';
import { InFlightWork, type DrainOutcome } from './in-flight-work.js';
import { psuAccessToken } from './psu-access-token.js';
import { REFRESH_ATTEMPT_TIMEOUT_MS } from './refresh-lock.js';
import { revokeAtBank, type RevocationOutcome } from './revoke.js';
import { SingleFlight } from './single-flight.js';
import { describeTokenMetrics } from './token-metrics.js';

/**
 * Every method that serves an inbound request takes that request's id last (optional): the log lines it
 * causes (a refresh it starts) carry it as `requestId`.
 */
export interface TokenEngine {
  /** A fresh access token for a PSU connection, refreshed (once, across replicas) when needed. */
  psuAccessToken(connection: Connection, requestId?: string): Promise<string>;
  /**
   * Sends a bank call with the connection's token; on a 401 refreshes once and, when `idempotent`
   * (GET, HEAD, PUT, DELETE, OPTIONS), retries once. Never loops.
   * @example const response = await engine.callWithPsuToken(connection, true, (token) => transport.send(build(token)));
   */
  callWithPsuToken(connection: Connection, idempotent: boolean, send: SendWithToken, requestId?: string): Promise<BankResponse>;
  /** The TPP's client-credentials token for a bank and scopes. */
  clientAccessToken(bank: string, scopes: readonly string[]): Promise<string>;
  /** Like `callWithPsuToken` with the client-credentials token: a 401 fetches a new one once. */
  callWithClientToken(bank: string, scopes: readonly string[], idempotent: boolean, send: SendWithToken, requestId?: string): Promise<BankResponse>;
  revoke(connection: Connection, requestId?: string): Promise<RevocationOutcome>;
  /**
   * For a graceful stop, before the transports and the store close: no new refresh starts (a call that needs
   * one is answered 503 `token_refresh_failed`, `reason: gateway_stopping`, retryable), and the refreshes in
   * flight finish (bank answer, store or journal write), at most `timeoutMs` (default `DRAIN_TIMEOUT_MS`).
   */
  drain(timeoutMs?: number): Promise<DrainOutcome>;
  readonly store: ConnectionStore;
}

/**
 * How long a graceful stop waits for refreshes in flight by default: the two attempts a refresh makes at most
 * (REFRESH_ATTEMPT_TIMEOUT_MS each) and a margin for its store and journal writes. Under the 30 s a container
 * platform gives a stopping process by default (Kubernetes' terminationGracePeriodSeconds).
 */
export const DRAIN_TIMEOUT_MS = 2 * REFRESH_ATTEMPT_TIMEOUT_MS + 5000;

export interface TokenEngineOptions {
  readonly banks: ReadonlyMap<string, ResolvedBank>;
  /** One transport per bank: token requests go over the bank's mTLS identity. */
  readonly transports: ReadonlyMap<string, BankTransport>;
  readonly store: ConnectionStore;
  readonly log: Logger;
  /** Token refreshes and failures are counted here. */
  readonly metrics?: MetricsRegistry;
  readonly now?: () => number;
  /** TTL of a connection's refresh lock in the store, ms. Default 30 000 (`store.lockTtlSeconds`). */
  readonly refreshLockTtlMs?: number;
  /** How long a refresh waits for a dead lock holder's journaled answer (refresh-lock.ts `awaitHandover`), ms. Default 0 (`store.handoverWaitSeconds`). */
  readonly handoverWaitMs?: number;
  /** Names this process in refresh-lock owners (the runtime's `replicaId`, e.g. `host:pid`); a random suffix is added. */
  readonly replicaId?: string;
}

/** The OAuth engine of the gateway, on oauth4webapi. Transport and store are injected. */
export function createTokenEngine(options: TokenEngineOptions): TokenEngine {
  const oauthByBank = new Map<string, BankOAuth>();
  for (const [name, bank] of options.banks) oauthByBank.set(name, createBankOAuth(bank, options.transports.get(name)!));
  const metrics = options.metrics ?? new MetricsRegistry();
  describeTokenMetrics(metrics);
  const context: TokenContext = {
    banks: oauthByBank,
    store: options.store,
    log: options.log,
    now: options.now ?? Date.now,
    metrics,
    lockTtlMs: options.refreshLockTtlMs ?? DEFAULT_LOCK_TTL_SECONDS * 1000,
    handoverWaitMs: options.handoverWaitMs ?? 0,
    replicaId: `${options.replicaId ?? 'bankgate'}:${randomHex(3)}`,
    work: new InFlightWork(),
  };
  const refreshes = new SingleFlight<Connection>();
  const clientTokens = new ClientCredentialsCache(context, new SingleFlight<TokenSet>());
  return {
    store: options.store,
    psuAccessToken: async (connection, requestId) => psuAccessToken(context, refreshes, connection, requestId),
    callWithPsuToken: (connection, idempotent, send, requestId) => callWithPsuToken(context, refreshes, connection, idempotent, send, requestId),
    clientAccessToken: (bank, scopes) => clientTokens.accessToken(bank, scopes),
    callWithClientToken: (bank, scopes, idempotent, send, requestId) =>
      callWithClientToken(context, (forceNew) => clientTokens.accessToken(bank, scopes, forceNew), bank, idempotent, send, requestId),
    revoke: (connection, requestId) => revokeAtBank(forRequest(context, requestId), connection),
    drain: (timeoutMs = DRAIN_TIMEOUT_MS) => context.work!.drain(timeoutMs),
  };
}
