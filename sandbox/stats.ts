/**
 * What reached each sandbox bank, for tests and benchmarks to assert on: token-endpoint requests by grant type,
 * token errors by OAuth error code, resource calls by status, and the last resource requests as received.
 */

/** Every sandbox bank, in the order the control plane lists them. */
export const BANK_NAMES = ['seb', 'sg', 'ukob', 'bg'] as const;

export type BankName = (typeof BANK_NAMES)[number];

export interface BankStats {
  /** Every token-endpoint request by `grant_type`, success or not (`unknown` when the body could not be read). */
  tokenRequests: Record<string, number>;
  /** Failed token-endpoint requests by OAuth `error` (`invalid_grant`, `invalid_client`, …). */
  tokenErrors: Record<string, number>;
  /** Resource-server responses by HTTP status. */
  resourceCalls: Record<string, number>;
  /**
   * Refresh-token grants that presented a refresh token the bank had already rotated (a double refresh: the
   * client refreshed the same token twice). Counted by banks that rotate refresh tokens (SG).
   */
  doubleRefreshes: number;
}

export interface RecordedRequest {
  bank: BankName;
  method: string;
  /** Path and query as received. */
  path: string;
  /** Lower-case names, values as received. */
  headers: Record<string, string>;
  /** RFC 8705 `x5t#S256` of the client certificate the request came with. */
  clientCertThumbprint: string | undefined;
  status: number;
}

export interface StatsSnapshot {
  banks: Record<BankName, BankStats>;
}

/** Kept bounded so that a long benchmark run cannot grow the sandbox's memory. */
const MAX_RECORDED = 200;

function emptyBankStats(): BankStats {
  // The three grant types are always present so that a test can compare against 0 without optional chaining.
  return {
    tokenRequests: { authorization_code: 0, refresh_token: 0, client_credentials: 0 },
    tokenErrors: {},
    resourceCalls: {},
    doubleRefreshes: 0,
  };
}

function increment(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

function emptyStats(): Record<BankName, BankStats> {
  return Object.fromEntries(BANK_NAMES.map((bank) => [bank, emptyBankStats()])) as Record<BankName, BankStats>;
}

export class SandboxStats {
  #banks: Record<BankName, BankStats> = emptyStats();
  #requests: RecordedRequest[] = [];

  tokenRequest(bank: BankName, grantType: string | undefined, error?: string): void {
    increment(this.#banks[bank].tokenRequests, grantType || 'unknown');
    if (error) increment(this.#banks[bank].tokenErrors, error);
  }

  doubleRefresh(bank: BankName): void {
    this.#banks[bank].doubleRefreshes++;
  }

  resourceCall(request: RecordedRequest): void {
    increment(this.#banks[request.bank].resourceCalls, String(request.status));
    this.#requests.push(request);
    if (this.#requests.length > MAX_RECORDED) this.#requests.splice(0, this.#requests.length - MAX_RECORDED);
  }

  snapshot(): StatsSnapshot {
    return structuredClone({ banks: this.#banks });
  }

  requests(bank?: BankName): RecordedRequest[] {
    return structuredClone(bank ? this.#requests.filter((r) => r.bank === bank) : this.#requests);
  }

  reset(): void {
    this.#banks = emptyStats();
    this.#requests = [];
  }
}
