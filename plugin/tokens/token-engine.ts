import type { ResolvedBank } from '../config/resolve-config.js';
import type { Logger } from '../log.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import type { Connection, ConnectionStore, TokenSet } from '../store/connection.js';
import type { BankTransport } from '../transport/types.js';
import { createBankOAuth, type BankOAuth } from './authorization-server.js';
import { ClientCredentialsCache } from './client-credentials.js';
import { beginConsent, completeConsent, type BeginConsentInput } from './consent.js';
import type { TokenContext } from './context.js';
import { psuAccessToken } from './psu-access-token.js';
import { revokeAtBank, type RevocationOutcome } from './revoke.js';
import { SingleFlight } from './single-flight.js';

export interface TokenEngine {
  beginConsent(input: BeginConsentInput): Promise<{ connection: Connection; authorizeUrl: string }>;
  completeConsent(bank: string, callbackUrl: URL): Promise<{ connection: Connection; returnTo?: string }>;
  /** A fresh access token for a PSU connection, refreshed (once) when needed. */
  psuAccessToken(connection: Connection): Promise<string>;
  /** The TPP's client-credentials token for a bank and scopes. */
  clientAccessToken(bank: string, scopes: readonly string[]): Promise<string>;
  revoke(connection: Connection): Promise<RevocationOutcome>;
  readonly store: ConnectionStore;
}

export interface TokenEngineOptions {
  readonly banks: ReadonlyMap<string, ResolvedBank>;
  /** One transport per bank: token requests go over the bank's mTLS identity. */
  readonly transports: ReadonlyMap<string, BankTransport>;
  readonly store: ConnectionStore;
  readonly log: Logger;
  /** Token refreshes and failures are counted here. */
  readonly metrics?: MetricsRegistry;
  readonly now?: () => number;
}

/** The OAuth engine of the gateway, on oauth4webapi. Transport and store are injected. */
export function createTokenEngine(options: TokenEngineOptions): TokenEngine {
  const oauthByBank = new Map<string, BankOAuth>();
  for (const [name, bank] of options.banks) oauthByBank.set(name, createBankOAuth(bank, options.transports.get(name)!));
  const context: TokenContext = { banks: oauthByBank, store: options.store, log: options.log, now: options.now ?? Date.now };
  const refreshes = new SingleFlight<Connection>();
  const clientTokens = new ClientCredentialsCache(context, new SingleFlight<TokenSet>());
  return {
    store: options.store,
    beginConsent: (input) => beginConsent(context, input),
    completeConsent: (bank, url) => completeConsent(context, bank, url),
    psuAccessToken: (connection) => psuAccessToken(context, refreshes, connection),
    clientAccessToken: (bank, scopes) => clientTokens.accessToken(bank, scopes),
    revoke: (connection) => revokeAtBank(context, connection),
  };
}
