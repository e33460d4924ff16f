import { toBase64Url } from '../crypto/base64.js';
import { sha256 } from '../crypto/digest.js';
import { BankgateError } from '../errors/bankgate-error.js';
import { storageIdOf, type Connection } from '../store/connection.js';
import type { TokenContext } from './context.js';
import { stoppingError } from './in-flight-work.js';
import { TOKEN_METRICS } from './token-metrics.js';

/**
 * `inDoubt`: the lock was taken over an earlier holder's unresolved intent (its digest of the refresh token it
 * was about to present): that holder died or lost its lease mid-refresh, and may hold the bank's answer.
 */
export type LockResult = { readonly held: true; readonly owner: string; readonly inDoubt?: string } | { readonly held: false; readonly connection: Connection };

const POLL_MS = 40;
/** How long one refresh attempt waits for the token endpoint (two attempts at most per refresh). */
export const REFRESH_ATTEMPT_TIMEOUT_MS = 10_000;
/**
 * How long a holder's intent outlives its lease: long enough for a replica that died (or lost its lease in a
 * store outage) with the bank's answer in its journal to be noticed by the next holder.
 */
export const INTENT_TTL_MS = 15 * 60_000;
const HANDOVER_POLL_MS = 50;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Takes the connection's refresh lock, or waits until another replica's refresh shows in the store.
 * While the lock is held elsewhere, the store is re-read every ~40 ms (or when the store says the lock was
 * released: `awaitLockRelease`): as soon as `stillNeeded` says the
 * stored connection no longer needs a refresh, that connection is used and no request goes to the bank.
 * A holder that died frees the lock when its TTL runs out; a live holder renews it (`keepLease`) while its
 * refresh runs, so the wait is bounded by the refresh's own timeouts (a BankgateError after those and a TTL).
 */
export async function acquireRefreshLock(context: TokenContext, connection: Connection, stillNeeded: (latest: Connection) => boolean): Promise<LockResult> {
  const name = refreshLockName(connection);
  const owner = `${context.replicaId}:${crypto.randomUUID()}`;
  // The intent: what this holder will present (recorded with the lock in the same round trip, where the store can),
  // only where a next holder would wait for it (store.handoverWaitSeconds): otherwise no digest, no larger script.
  const intent = context.handoverWaitMs > 0 && context.store.acquireLockWithIntent && connection.tokens?.refreshToken ? { value: await refreshTokenDigest(connection.tokens.refreshToken), ttlMs: Math.max(INTENT_TTL_MS, 4 * context.lockTtlMs) } : undefined;
  const started = performance.now();
  const deadline = context.now() + context.lockTtlMs + 2 * REFRESH_ATTEMPT_TIMEOUT_MS + 1000;
  const waited = () => context.metrics.observe(TOKEN_METRICS.lockWait, { bank: connection.bank }, (performance.now() - started) / 1000);
  for (;;) {
    if (intent) {
      const taken = await context.store.acquireLockWithIntent!(name, owner, context.lockTtlMs, intent);
      if (taken.acquired) {
        waited();
        // An intent this engine left (a refresh of this life that could not release: the store was away) holds
        // nothing to wait for: its set is stored, or journaled here and replayed before this lock was taken, or lost.
        const elsewhere = taken.unresolved && !taken.unresolved.owner.startsWith(`${context.replicaId}:`);
        return { held: true, owner, ...(elsewhere ? { inDoubt: taken.unresolved!.value } : {}) };
      }
    } else if (await context.store.acquireLock(name, owner, context.lockTtlMs)) {
      waited();
      return { held: true, owner };
    }
    // The gateway is stopping: a waiter has nothing at the bank; the replica holding the lock finishes the refresh.
    if (context.work?.stopping) {
      waited();
      throw stoppingError(connection.bank, connection.id);
    }
    // A store that parks waiters on the holder's release (the Durable Object store) is not polled.
    if (context.store.awaitLockRelease) await context.store.awaitLockRelease(name, Math.max(0, Math.min(context.lockTtlMs, deadline - context.now())));
    else await sleep(POLL_MS / 2 + Math.random() * POLL_MS);
    const latest = await context.store.get(storageIdOf(connection));
    if (!latest) throw new BankgateError('connection_not_found', { status: 404, detail: `connection ${connection.id} does not exist (deleted during its refresh)` });
    if (!stillNeeded(latest)) {
      waited();
      return { held: false, connection: latest };
    }
    if (context.now() > deadline) {
      waited();
      throw new BankgateError('token_refresh_failed', {
        status: 503,
        bank: connection.bank,
        detail: `connection ${connection.id} is being refreshed by another replica that has not finished; retry shortly`,
        extra: { connectionId: connection.id, retryable: true },
      });
    }
  }
}

/**
 * Renews the refresh lock's lease every third of its TTL while the refresh runs (finding 5 of issue 15): a
 * token endpoint slower than the TTL does not let another replica refresh the same token meanwhile. A lease
 * that could not be renewed (taken over after a store outage) is reported; the write stays fenced by the
 * compare-and-set on the refresh token it used.
 */
export function keepLease(context: TokenContext, connection: Connection, owner: string): { stop(): void } {
  const name = refreshLockName(connection);
  let stopped = false;
  const timer = setInterval(() => {
    context.store.renewLock(name, owner, context.lockTtlMs).then(
      (held) => {
        if (held || stopped) return;
        clearInterval(timer);
        context.log.warn('token.lease_lost', { bank: connection.bank, connectionId: connection.id, lockTtlMs: context.lockTtlMs });
      },
      () => {}, // the store is down: the next tick tries again
    );
  }, Math.max(100, Math.floor(context.lockTtlMs / 3)));
  (timer as { unref?: () => void }).unref?.();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}

/**
 * Under the lock, taken over an earlier holder's unresolved intent (`inDoubt`): when the stored refresh token is
 * still the one that holder was about to present, it may have been rotated at the bank with the answer in that
 * holder's journal (a replica killed, or cut off from the store, after the bank answered). Presenting it again
 * would be a double refresh (the bank revokes the grant, the journaled answer with it), so this waits, at most
 * `context.handoverWaitMs` (`store.handoverWaitSeconds`; 0, the default, does not wait), for the holder's replay
 * to store the newer set, re-reading the store (the lease is renewed meanwhile). Returns the connection as stored at the end: replaced (the handover landed), or the same
 * refresh token (nobody came back: the caller presents it, and the bank decides). No wait when nothing is in doubt.
 */
export async function awaitHandover(context: TokenContext, connection: Connection, inDoubt: string): Promise<Connection> {
  const presenting = connection.tokens?.refreshToken;
  if (context.handoverWaitMs <= 0 || presenting === undefined || (await refreshTokenDigest(presenting)) !== inDoubt) return connection;
  const started = context.now();
  context.log.warn('token.handover_wait', { bank: connection.bank, connectionId: connection.id, maxMs: context.handoverWaitMs, detail: 'an earlier refresh of this token never released its lock: waiting for its journaled answer before presenting the token again' });
  for (;;) {
    if (context.work?.stopping) throw stoppingError(connection.bank, connection.id);
    await sleep(HANDOVER_POLL_MS);
    const latest = await context.store.get(storageIdOf(connection));
    if (!latest) throw new BankgateError('connection_not_found', { status: 404, detail: `connection ${connection.id} does not exist (deleted during its refresh)` });
    if (latest.tokens?.refreshToken !== presenting || latest.status !== connection.status) {
      context.log.info('token.handed_over', { bank: connection.bank, connectionId: connection.id, waitedMs: context.now() - started });
      return latest;
    }
    if (context.now() - started >= context.handoverWaitMs) {
      context.log.warn('token.handover_timeout', { bank: connection.bank, connectionId: connection.id, waitedMs: context.now() - started, detail: 'no earlier holder handed a newer token set over; the stored refresh token is presented' });
      return latest;
    }
  }
}

/** A digest of a refresh token for the lock's intent: tells tokens apart, useless to use one. */
async function refreshTokenDigest(refreshToken: string): Promise<string> {
  return toBase64Url((await sha256(refreshToken)).subarray(0, 16));
}

/** The store lock that keeps one refresh per connection across replicas. */
export const refreshLockName = (connection: Connection) => `refresh:${storageIdOf(connection)}`;

export async function releaseRefreshLock(context: TokenContext, connection: Connection, owner: string): Promise<void> {
  try {
    const released = await context.store.releaseLock(refreshLockName(connection), owner);
    // Not ours any more: the TTL ran out while we refreshed. The result is stored anyway (compare-and-set).
    if (!released) context.log.warn('token.lock_expired', { bank: connection.bank, connectionId: connection.id, lockTtlMs: context.lockTtlMs });
  } catch {
    // The store is down: the lock expires by itself.
    context.log.warn('token.lock_release_failed', { bank: connection.bank, connectionId: connection.id });
  }
}
