/**
 * ConnectionStore v2 (the team's contract, design/contracts.md §3), as the edge stores (Deno KV, Durable
 * Objects) implement it ahead of the shared interface: create-if-absent, lease renewal and the rolling-window
 * counters of the unattended-access budget. When `ConnectionStore` itself carries these members, this file
 * reduces to that interface.
 */
import type { Connection, ConnectionStore } from './connection.js';

export interface WindowHit {
  readonly allowed: boolean;
  /** Hits inside the window after this one (a refused hit is not counted). */
  readonly count: number;
  /** When refused: how long until the oldest hit leaves the window. */
  readonly retryAfterMs?: number;
}

export interface WindowPeek {
  readonly count: number;
  /** When the oldest hit inside the window leaves it (epoch ms); absent when the window is empty. */
  readonly resetAt?: number;
}

export interface ConnectionStoreV2 extends ConnectionStore {
  /** Creates the connection when its id is free (atomic); undefined when it exists. Never overwrites. */
  create(connection: Connection): Promise<Connection | undefined>;
  /** Extends the lock's lease to `ttlMs` from now, only while `owner` holds it. */
  renewLock(name: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Atomic check-and-count in a rolling window of `windowMs`: allowed while fewer than `limit` hits are inside it. */
  hitWindow(key: string, options: { windowMs: number; limit: number; now: number }): Promise<WindowHit>;
  /** The hits inside the rolling window now, without counting one. */
  peekWindow(key: string, options: { windowMs: number; now: number }): Promise<WindowPeek>;
}

/** The hits still inside a rolling window at `now` (timestamps, oldest first). */
export function inWindow(hits: readonly number[], windowMs: number, now: number): number[] {
  return hits.filter((at) => at > now - windowMs).sort((a, b) => a - b);
}
