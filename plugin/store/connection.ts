import type { NextAction, ConsentRecord, SessionData } from '../consent/protocol.js';
import type { PaymentRecord } from '../consent/payment-protocol.js';

/**
 * One PSU's consent at one bank, and the token set that carries it. `pending`: the PSU has not finished the first
 * consent; `active`; `reconsent_required`: the consent ended (expired, revoked by the PSU, refresh refused), kept with
 * its reason; `failed`: the first consent was refused or its SCA failed (POST /connections again with the same id).
 */
export type ConnectionStatus = 'pending' | 'active' | 'reconsent_required' | 'revoked' | 'failed';

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

/**
 * A consent (or a payment's authorisation) in progress: what the protocol keeps between its steps, found again by
 * `state` (the callback) or by the connection (PSU data, polls).
 */
export interface PendingConsent {
  readonly state: string;
  /** The authorization-code step in progress (PKCE verifier, nonce, redirect URI), when the PSU is at an authorization endpoint. */
  readonly codeVerifier?: string;
  readonly nonce?: string;
  readonly redirectUri?: string;
  /** Where the PSU's browser goes after the callback (checked against the allow-list when the consent started). */
  readonly returnTo?: string;
  /** Epoch milliseconds after which the callback is refused. */
  readonly expiresAt: number;
  /** The protocol's own state between steps (JSON). */
  readonly session?: SessionData;
  /** What the PSU must do now. */
  readonly nextAction?: NextAction;
  /** Epoch ms: the last time the gateway asked the bank how a decoupled SCA goes (bounds polling across replicas). */
  readonly polledAt?: number;
  /** Held while one replica runs a step for this state (compare-and-set): a second delivery does not run it again. */
  readonly claim?: { readonly id: string; readonly until: number };
  /** How the step ended: a second delivery of the callback is answered from it, without the bank. */
  readonly outcome?: { readonly status: ConnectionStatus; readonly reason?: { readonly code: string; readonly detail: string } };
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
  /** The consent as the bank holds it (its id, status, validity, unattended reads per day). */
  readonly consent?: ConsentRecord;
  /** A re-consent completed by another PSU, accepted under `consent.subjectChange: 'flag'`: when. */
  readonly psu?: { readonly changedAt?: number };
  /** The unattended reads counted for this connection (`"<endpoint> <account>"`), so that its budget can be shown. */
  readonly unattended?: { readonly reads: readonly string[] };
  /** `payment`: not a connection but a payment the gateway follows (`payment` holds it; never addressable as a connection). */
  readonly kind?: 'payment';
  readonly payment?: PaymentRecord;
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
