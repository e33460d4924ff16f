/** One PSU's consent at one bank, and the token set that carries it. */
export type ConnectionStatus = 'pending' | 'active' | 'reconsent_required' | 'revoked';

export interface TokenSet {
  readonly accessToken: string;
  readonly refreshToken?: string;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
  /** Lifetime the bank granted, seconds: bounds the refresh skew. */
  readonly expiresIn: number;
  readonly scope?: string;
}

export interface PendingConsent {
  readonly state: string;
  readonly codeVerifier: string;
  readonly nonce?: string;
  readonly redirectUri: string;
  readonly returnTo?: string;
  /** Epoch milliseconds after which the callback is refused. */
  readonly expiresAt: number;
}

export interface Connection {
  readonly id: string;
  readonly bank: string;
  /** The caller that created it; only it may use or see it. */
  readonly owner: string;
  readonly status: ConnectionStatus;
  readonly scopes: readonly string[];
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly pending?: PendingConsent;
  readonly tokens?: TokenSet;
  /** The PSU's subject at the bank, from the id_token when there is one. */
  readonly subject?: string;
  /** Why the connection is not active (no secret in it). */
  readonly reason?: { readonly code: string; readonly detail: string };
}

/**
 * Where connections live. The in-memory store is enough for one process; persistent and Redis stores
 * implement the same interface.
 */
export interface ConnectionStore {
  get(id: string): Promise<Connection | undefined>;
  put(connection: Connection): Promise<void>;
  delete(id: string): Promise<void>;
  /** The connection whose pending consent carries this `state`. */
  findByState(state: string): Promise<Connection | undefined>;
  close(): Promise<void>;
}
