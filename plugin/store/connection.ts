import type { NextAction, ConsentRecord, SessionData } from '../consent/protocol.js';
import type { PaymentRecord } from '../consent/payment-protocol.js';
import { BankgateError } from '../errors/bankgate-error.js';
import { CONNECTION_ID_PATTERN } from '../surface/connection-api.js';
import type { JournalEntry } from './token-journal.js';

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
  /** The mount prefix the consent started under: the redirect URIs of its later steps carry it too. */
  readonly mountPrefix?: string;
  /** Epoch ms: the last time the gateway asked the bank how a decoupled SCA goes (bounds polling across replicas). */
  readonly polledAt?: number;
  /**
   * Held while one replica runs a step of the consent engine for this state (compare-and-set): a second delivery
   * does not run it again, and waits for its outcome (`settledConsent`). A holder that vanished frees it at `until`.
   */
  readonly stepClaim?: { readonly id: string; readonly until: number };
}

/**
 * How the last consent callback ended, kept (with its `state`) until the consent window closes, so that a
 * second delivery of the same callback (a browser's double submit) is answered from it.
 */
export interface SettledConsent {
  readonly state: string;
  readonly outcome: 'active' | 'failed';
  readonly returnTo?: string;
  /** The failure, for a `failed` outcome (no secret in it). */
  readonly error?: { readonly code: string; readonly status: number; readonly detail: string };
  /** Epoch milliseconds: until then `findByState(state)` still finds the connection. */
  readonly expiresAt: number;
}

export interface Connection {
  /** What the caller calls it (`X-Connection-Id`): unique per owner only, see `connectionStorageId`. */
  readonly id: string;
  readonly bank: string;
  /** The `Caller.key` of the caller that created it (`key:<name>`, `jwt:<issuer>#<sub>`, `host:<id>`); only it may use or see it. */
  readonly owner: string;
  readonly status: ConnectionStatus;
  readonly scopes: readonly string[];
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly pending?: PendingConsent;
  readonly settledConsent?: SettledConsent;
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
   * was never stored; a value given to `put` or `create` is ignored.
   */
  readonly revision?: number;
}

/**
 * THE way to address a connection in a store: the owner's `Caller.key` and the caller's own connection id,
 * as one string (`<ownerKey>/<connectionId>`). Connection ids are per caller: two callers may both call a
 * connection `x` and never see each other's. Injective: a connection id never holds `/`, so the last `/`
 * splits it. Throws `bad_request` (400) for an id outside `CONNECTION_ID_PATTERN`, so no lookup is made with it.
 * @example connectionStorageId('key:batch-job', 'treasury-sg') // 'key:batch-job/treasury-sg'
 */
export function connectionStorageId(ownerKey: string, connectionId: string): string {
  if (!CONNECTION_ID_PATTERN.test(connectionId)) {
    throw new BankgateError('bad_request', { status: 400, detail: 'a connection id must be 1–128 characters of A–Z, a–z, 0–9, ".", "_" or "-"' });
  }
  if (ownerKey.length === 0) throw new TypeError('connectionStorageId: the owner key is empty');
  return `${ownerKey}/${connectionId}`;
}

/** The storage id of a stored (or about to be stored) connection. */
export function storageIdOf(connection: Pick<Connection, 'owner' | 'id'>): string {
  return `${connection.owner}/${connection.id}`;
}

/** Options of a rolling-window count: hits older than `windowMs` before `now` no longer count. */
export interface WindowOptions {
  readonly windowMs: number;
  /** Epoch milliseconds, the caller's clock (replicas share the store, not necessarily a clock source). */
  readonly now: number;
}

export interface WindowHit {
  /** True when the hit was counted (the count was below `limit`); a refused hit is not counted. */
  readonly allowed: boolean;
  /** Hits in the window, this one included when allowed. */
  readonly count: number;
  /** When refused: milliseconds until the oldest counted hit leaves the window. */
  readonly retryAfterMs?: number;
}

export interface WindowPeek {
  readonly count: number;
  /** When the oldest counted hit leaves the window (epoch ms); absent when the window is empty. */
  readonly resetAt?: number;
}

/** What a lock holder recorded it was about to do (`acquireLockWithIntent`), and who. */
export interface LockIntent {
  readonly owner: string;
  readonly value: string;
}

/**
 * Where connections live, the locks that keep one refresh per connection across replicas, and the rolling
 * windows that count unattended access. Implementations: memory (tests), file (the persistent single-node
 * default), Redis (several replicas); Durable Objects and Deno KV in their adapters. Every method that takes
 * an id takes the storage id (`connectionStorageId`); every write addresses `storageIdOf(connection)`.
 * Every method may throw `BankgateError('store_unavailable')` (503) when the backing store cannot be reached.
 */
export interface ConnectionStore {
  /** The stored connection, with its `revision`. */
  get(storageId: string): Promise<Connection | undefined>;
  /** Writes unconditionally; returns what was stored, with its new `revision`. Never used to create a connection (see `create`). */
  put(connection: Connection): Promise<Connection>;
  /**
   * Creates the connection only when nothing is stored under its storage id (atomic create-if-absent);
   * returns it with its `revision`, or undefined when the id exists.
   */
  create(connection: Connection): Promise<Connection | undefined>;
  /**
   * Writes only when the stored revision is still `expectedRevision` (compare-and-set); returns the stored
   * connection, or undefined when it changed or was deleted meanwhile. Never creates a deleted connection again.
   */
  compareAndSet(connection: Connection, expectedRevision: number): Promise<Connection | undefined>;
  delete(storageId: string): Promise<void>;
  /** The connection whose pending consent (or settled consent, until its window closes) carries this `state`. */
  findByState(state: string): Promise<Connection | undefined>;
  /** Takes the lock `name` for `owner` when nobody holds it; it expires by itself after `ttlMs`. */
  acquireLock(name: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Extends the lock to `ttlMs` from now, only while `owner` still holds it (a lease); false when it does not. */
  renewLock(name: string, owner: string, ttlMs: number): Promise<boolean>;
  /**
   * Releases the lock only when `owner` still holds it (compare-and-delete); false when it did not. A store with
   * `acquireLockWithIntent` also clears the intent `owner` recorded (whether or not its lease ran out).
   */
  releaseLock(name: string, owner: string): Promise<boolean>;
  /**
   * Optional (stores shared by replicas): `acquireLock` that also records, in the same round trip, the holder's
   * intent (`value`: what it is about to present to the bank, a digest of the refresh token) for `ttlMs`, longer
   * than the lease. When the lock is taken, returns the intent an earlier holder left unresolved: one that never
   * released the lock (it died, or lost its lease in a store outage) and may hold the bank's answer in its journal.
   */
  acquireLockWithIntent?(name: string, owner: string, ttlMs: number, intent: { readonly value: string; readonly ttlMs: number }): Promise<{ acquired: boolean; unresolved?: LockIntent }>;
  /**
   * Optional: resolves when the lock `name` is released or its lease runs out, or after `maxMs`, whichever
   * comes first (waiters parked on one promise inside the store, as the Durable Object store does), instead
   * of the refresh's waiters polling the store. Resolving says nothing about who holds the lock now.
   */
  awaitLockRelease?(name: string, maxMs: number): Promise<void>;
  /**
   * Counts one hit in the rolling window `key` when fewer than `limit` hits are in it (atomic check-and-count,
   * shared by every replica); a refused hit is not counted. `limit` ≥ 1.
   */
  hitWindow(key: string, options: WindowOptions & { readonly limit: number }): Promise<WindowHit>;
  /** The hits in the rolling window `key`, without counting one. */
  peekWindow(key: string, options: WindowOptions): Promise<WindowPeek>;
  /**
   * Present when this replica has a local durable journal (`journaledStore`): keeps a refreshed token set the
   * store could not take, durably, and writes it into the store as soon as it answers, ahead of any other
   * write of that connection. Resolves once the entry survives a crash. Absent: the runtime has no journal.
   */
  keepRefreshed?(entry: JournalEntry): Promise<void>;
  /**
   * Present with `keepRefreshed`: journals a token set the bank just issued, durably, as soon as it is parsed
   * (alongside its store write, not only when that fails), so that a replica killed between the bank's answer
   * and the store write loses nothing: the entry is replayed when it starts again. Resolves once the entry
   * survives a crash.
   */
  journalAhead?(entry: JournalEntry): Promise<void>;
  /** The store has the set `journalAhead` kept (or a newer one): the entry is forgotten (off the caller's path). */
  settleJournal?(entry: JournalEntry): void;
  close(): Promise<void>;
}

