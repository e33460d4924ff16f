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
  /**
   * `x5t#S256` of the client certificate the bank's transport presented when this set was obtained. A
   * certificate-bound token is useless once the transport presents another certificate: such a set is
   * treated as expired and refreshed over the current one.
   */
  readonly certificateThumbprint?: string;
}

export interface PendingConsent {
  readonly state: string;
  readonly codeVerifier: string;
  readonly nonce?: string;
  readonly redirectUri: string;
  readonly returnTo?: string;
  /** Epoch milliseconds after which the callback is refused. */
  readonly expiresAt: number;
  /** A consent protocol's own state between its steps (JSON, no secret): e.g. the UK Open Banking intent id. */
  readonly session?: Readonly<Record<string, unknown>>;
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
  /** The consent as the bank holds it, for protocols with a consent resource (UK Open Banking: the intent). */
  readonly consent?: { readonly protocol: string; readonly id?: string; readonly status?: string; readonly checkedAt?: number; readonly data?: Readonly<Record<string, unknown>> };
  /**
   * Set by the store: incremented on every write, compared by `compareAndSet`. Absent on a connection that
   * was never stored; a value given to `put` is ignored.
   */
  readonly revision?: number;
}

/**
 * Where connections live, and the locks that keep one refresh per connection across replicas.
 * Implementations: memory (tests), file (the persistent single-node default), Redis (several replicas).
 * Every method may throw `BankgateError('store_unavailable')` (503) when the backing store cannot be reached.
 */
export interface ConnectionStore {
  /** The stored connection, with its `revision`. */
  get(id: string): Promise<Connection | undefined>;
  /** Writes unconditionally (creation, consent); returns what was stored, with its new `revision`. */
  put(connection: Connection): Promise<Connection>;
  /**
   * Writes only when the stored revision is still `expectedRevision` (compare-and-set); returns the stored
   * connection, or undefined when it changed or was deleted meanwhile. Never creates a deleted connection again.
   */
  compareAndSet(connection: Connection, expectedRevision: number): Promise<Connection | undefined>;
  delete(id: string): Promise<void>;
  /** The connection whose pending consent carries this `state`. */
  findByState(state: string): Promise<Connection | undefined>;
  /** Takes the lock `name` for `owner` when nobody holds it; it expires by itself after `ttlMs`. */
  acquireLock(name: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Releases the lock only when `owner` still holds it (compare-and-delete); false when it did not. */
  releaseLock(name: string, owner: string): Promise<boolean>;
  close(): Promise<void>;
}
