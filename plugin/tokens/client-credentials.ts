import * as oauth from 'oauth4webapi';
import { withDpopNonceRetry } from '../oauth/authorization-request.js';
import type { TokenSet } from '../store/connection.js';
import { bankOAuth, type TokenContext } from './context.js';
import { toOAuthError } from './oauth-error.js';
import type { SingleFlight } from './single-flight.js';
import { TOKEN_METRICS } from './token-metrics.js';
import { freshnessOf, toTokenSet } from './token-set.js';

/**
 * The TPP's own client-credentials token (RFC 6749 §4.4) for a bank and scope set, cached until the skew
 * margin (or until the bank's transport presents another client certificate) and fetched once however many
 * calls ask at the same time. Per process: any replica can get its own, nothing is shared or stored.
 */
export class ClientCredentialsCache {
  readonly #tokens = new Map<string, TokenSet>();
  readonly #context: TokenContext;
  readonly #flights: SingleFlight<TokenSet>;

  constructor(context: TokenContext, flights: SingleFlight<TokenSet>) {
    this.#context = context;
    this.#flights = flights;
  }

  /** `forceNew`: the bank refused the cached token; fetch another (once, however many ask). */
  async accessToken(bank: string, scopes: readonly string[], forceNew = false): Promise<string> {
    const key = `${bank}\u0000${[...scopes].sort().join(' ')}`;
    const bankSide = bankOAuth(this.#context, bank);
    const cached = this.#tokens.get(key);
    if (forceNew && cached) this.#tokens.delete(key);
    else if (cached && freshnessOf(cached, this.#context.now(), bankSide.bank.refreshSkewSeconds, bankSide.certificateThumbprint()) === 'fresh') return cached.accessToken;
    const fresh = await this.#flights.run(key, async () => {
      const thumbprint = bankSide.certificateThumbprint();
      try {
        const as = await bankSide.metadata();
        const parameters = new URLSearchParams(scopes.length > 0 ? { scope: scopes.join(' ') } : {});
        const result = await withDpopNonceRetry(bankSide, async () =>
          oauth.processClientCredentialsResponse(as, bankSide.client, await oauth.clientCredentialsGrantRequest(as, bankSide.client, bankSide.clientAuth, parameters, bankSide.requestOptions)),
        );
        const tokens = toTokenSet(result, this.#context.now(), undefined, thumbprint);
        this.#tokens.set(key, tokens);
        this.#context.metrics.inc(TOKEN_METRICS.clientCredentials, { bank, outcome: 'obtained' });
        this.#context.log.info('token.client_credentials', { bank, scopes: scopes.join(' ') });
        return tokens;
      } catch (error) {
        this.#context.metrics.inc(TOKEN_METRICS.clientCredentials, { bank, outcome: 'failed' });
        throw toOAuthError(bank, 'client credentials grant', error);
      }
    });
    return fresh.accessToken;
  }

  /** Forgets every cached token of a bank (e.g. after the bank rejected one). */
  forget(bank: string): void {
    for (const key of this.#tokens.keys()) if (key.startsWith(`${bank}\u0000`)) this.#tokens.delete(key);
  }
}
