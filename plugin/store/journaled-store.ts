import type { Logger } from '../log.js';
import { storageIdOf, type Connection, type ConnectionStore } from './connection.js';
import type { JournalEntry, TokenJournal } from './token-journal.js';

/** `refreshLockName` (tokens/refresh-lock.ts): `refresh:<storage id>`. */
const REFRESH_LOCK_PREFIX = 'refresh:';

export interface JournaledStoreOptions {
  readonly log: Logger;
  readonly now?: () => number;
  /** How often held entries are offered to the store while it is away, ms. Default 500. */
  readonly replayEveryMs?: number;
  /** How long opening waits for the entries a killed life left to reach the store, ms. Default 3000. */
  readonly startupReplayMs?: number;
}

/**
 * The store with a local journal in front of it (issue 15, finding 1): every token set a refresh got from the
 * bank is journaled as soon as it is parsed, alongside its store write (`journalAhead`, one fsync'd file
 * write), and forgotten once the store has it (`settleJournal`, off the refresh's path). A set the store could not
 * take (`keepRefreshed`) stays journaled and is written into the store as soon as it answers, ahead of any
 * other read or write of that connection on this replica (every method addressing it replays first; a
 * timer offers held entries every `replayEveryMs` until the store takes them). The refresh lock the refresh
 * held is released only after that, so no other replica refreshes with the refresh token the bank killed.
 * A replica killed between the bank's answer and the store write finds the entry when it starts again and
 * replays it while the store opens (bounded by `startupReplayMs`), then releases the dead life's lock, so
 * the connection's next refresh uses the new set; a refresh lock is taken only after that replay.
 *
 * Replay lands only where the stored refresh token is still the one the refresh used: a connection deleted
 * meanwhile, re-consented, or refreshed by someone else keeps what it has. A connection another replica
 * marked `reconsent_required` meanwhile (its refresh met the dead token) gets its token set back and
 * becomes `active` again, since the refusal was about the very token this entry replaces.
 * Entries left by a replica killed before its replay are replayed when it starts again.
 */
export async function journaledStore(inner: ConnectionStore, journal: TokenJournal, options: JournaledStoreOptions): Promise<ConnectionStore> {
  const { log } = options;
  const now = options.now ?? Date.now;
  const pending = new Map<string, JournalEntry>();
  for (const entry of await journal.entries()) {
    const held = pending.get(entry.storageId);
    if (!held || held.journaledAt < entry.journaledAt) pending.set(entry.storageId, entry);
  }
  if (pending.size > 0) log.warn('token.journal_pending', { entries: pending.size, detail: 'token sets journaled before a restart are written into the store as soon as it answers' });

  /** Entries written ahead of a store write that has not settled yet (by storage id). */
  const ahead = new Map<string, JournalEntry>();
  /** Journal file operations of one connection run one after another (a removal never overtakes a newer write). */
  const fileOps = new Map<string, Promise<unknown>>();
  const onFile = <T>(storageId: string, operation: () => Promise<T>): Promise<T> => {
    const run = (fileOps.get(storageId) ?? Promise.resolve()).catch(() => {}).then(operation);
    const tail = run.catch(() => {});
    fileOps.set(storageId, tail);
    void tail.then(() => {
      if (fileOps.get(storageId) === tail) fileOps.delete(storageId);
    });
    return run;
  };
  const forget = (entry: JournalEntry) =>
    onFile(entry.storageId, () => journal.remove(entry.storageId, entry.journaledAt)).catch(() =>
      log.warn('token.journal_remove_failed', { detail: 'a settled journal entry could not be removed; it is replayed harmlessly at the next start' }),
    );

  const running = new Map<string, Promise<void>>();
  /** Writes the held entry of `storageId` into the store (once at a time per connection); throws while the store is away. */
  const replay = (storageId: string): Promise<void> => {
    if (!pending.has(storageId)) return Promise.resolve();
    let run = running.get(storageId);
    if (!run) {
      run = replayOne(storageId).finally(() => running.delete(storageId));
      running.set(storageId, run);
    }
    return run;
  };

  async function replayOne(storageId: string): Promise<void> {
    const entry = pending.get(storageId)!;
    let outcome: 'written' | 'already' | 'superseded' | 'deleted' = 'superseded';
    for (let attempt = 0; attempt < 10; attempt++) {
      const latest = await inner.get(storageId);
      const decided = decide(latest, entry);
      if (decided !== 'write') {
        outcome = decided;
        break;
      }
      const { reason: _refusal, ...kept } = latest!;
      const restored: Connection = entry.completes
        ? { ...entry.completes.connection, revision: latest!.revision, updatedAt: now() }
        : latest!.status === 'active'
          ? { ...latest!, tokens: entry.tokens, updatedAt: now() }
          : { ...kept, status: 'active', tokens: entry.tokens, updatedAt: now() };
      if (await inner.compareAndSet(restored, latest!.revision!)) {
        outcome = 'written';
        break;
      }
    }
    if (entry.lock) await inner.releaseLock(entry.lock.name, entry.lock.owner).catch(() => false);
    if (pending.get(storageId) === entry) pending.delete(storageId);
    await onFile(storageId, () => journal.remove(storageId, entry.journaledAt));
    const connectionId = storageId.slice(storageId.lastIndexOf('/') + 1);
    if (outcome === 'written') log.info('token.journal_replayed', { connectionId, heldMs: now() - entry.journaledAt });
    else log.warn('token.journal_dropped', { connectionId, outcome, detail: outcome === 'superseded' ? 'the stored grant changed meanwhile (new consent or refresh); it is kept' : outcome === 'deleted' ? 'the connection was deleted meanwhile' : 'the store already held this token set' });
  }

  let timer: ReturnType<typeof setInterval> | undefined;
  const offerAll = () => {
    if (pending.size === 0) {
      clearInterval(timer);
      timer = undefined;
      return;
    }
    for (const storageId of pending.keys()) replay(storageId).catch(() => {}); // still away: next tick
  };
  const schedule = () => {
    if (timer || pending.size === 0) return;
    timer = setInterval(offerAll, options.replayEveryMs ?? 500);
    (timer as { unref?: () => void }).unref?.();
  };
  schedule();
  // Entries a killed life left: written into the store before this replica serves (bounded: a store that is
  // away does not hold the start-up; the timer keeps offering them, and every access of the connection replays first).
  if (pending.size > 0) {
    let bound: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.allSettled([...pending.keys()].map((storageId) => replay(storageId).catch((error: unknown) => log.warn('token.journal_replay_deferred', { reason: (error as { code?: string })?.code ?? (error as Error)?.name, detail: 'the store did not take a journaled set at start-up; offered again until it does' })))),
      new Promise((resolve) => (bound = setTimeout(resolve, options.startupReplayMs ?? 3000))),
    ]);
    clearTimeout(bound);
  }

  const store: ConnectionStore = {
    async get(storageId) {
      await replay(storageId);
      return inner.get(storageId);
    },
    async put(connection) {
      await replay(storageIdOf(connection));
      return inner.put(connection);
    },
    async create(connection) {
      await replay(storageIdOf(connection));
      return inner.create(connection);
    },
    async compareAndSet(connection, expectedRevision) {
      // A replay changes the revision: this write then fails its compare-and-set and its writer re-reads.
      await replay(storageIdOf(connection));
      return inner.compareAndSet(connection, expectedRevision);
    },
    async delete(storageId) {
      await replay(storageId);
      return inner.delete(storageId);
    },
    async findByState(state) {
      const found = await inner.findByState(state);
      if (!found || !pending.has(storageIdOf(found))) return found;
      await replay(storageIdOf(found));
      return inner.findByState(state);
    },
    async acquireLock(name, owner, ttlMs) {
      // A refresh lock is taken only once this replica's held set for the connection is in the store.
      if (name.startsWith(REFRESH_LOCK_PREFIX)) await replay(name.slice(REFRESH_LOCK_PREFIX.length));
      return inner.acquireLock(name, owner, ttlMs);
    },
    ...(inner.acquireLockWithIntent
      ? {
          acquireLockWithIntent: async (name: string, owner: string, ttlMs: number, intent: { value: string; ttlMs: number }) => {
            if (name.startsWith(REFRESH_LOCK_PREFIX)) await replay(name.slice(REFRESH_LOCK_PREFIX.length));
            return inner.acquireLockWithIntent!(name, owner, ttlMs, intent);
          },
        }
      : {}),
    renewLock: (name, owner, ttlMs) => inner.renewLock(name, owner, ttlMs),
    async releaseLock(name, owner) {
      // The refresh that journaled releases its lock: the replay must land first (and releases it itself).
      const held = [...pending.values()].find((entry) => entry.lock?.name === name && entry.lock.owner === owner);
      if (!held) return inner.releaseLock(name, owner);
      await replay(held.storageId);
      return true;
    },
    hitWindow: (key, windowOptions) => inner.hitWindow(key, windowOptions),
    peekWindow: (key, windowOptions) => inner.peekWindow(key, windowOptions),
    async keepRefreshed(entry) {
      // Already on disk when it was journaled ahead of the store write that failed.
      if (ahead.get(entry.storageId) === entry) ahead.delete(entry.storageId);
      else await onFile(entry.storageId, () => journal.write(entry));
      pending.set(entry.storageId, entry);
      schedule();
    },
    async journalAhead(entry) {
      await onFile(entry.storageId, () => journal.write(entry));
      ahead.set(entry.storageId, entry);
    },
    settleJournal(entry) {
      if (ahead.get(entry.storageId) !== entry) return;
      ahead.delete(entry.storageId);
      void forget(entry);
    },
    async close() {
      clearInterval(timer);
      timer = undefined;
      await Promise.all(fileOps.values());
      await inner.close();
    },
  };
  return store;
}

function decide(latest: Connection | undefined, entry: JournalEntry): 'write' | 'already' | 'superseded' | 'deleted' {
  if (!latest || latest.revision === undefined) return 'deleted';
  // A completed consent lands where its step is still claimed by the delivery that completed it: nothing else ran since.
  if (entry.completes) return latest.tokens?.accessToken === entry.tokens.accessToken ? 'already' : latest.pending?.stepClaim?.id === entry.completes.claimId ? 'write' : 'superseded';
  if (latest.tokens?.accessToken === entry.tokens.accessToken) return 'already';
  if (latest.tokens?.refreshToken !== entry.usedRefreshToken) return 'superseded';
  if (latest.status === 'active') return 'write';
  // Marked by a replica whose refresh met the token this entry replaces; any other state (revoked, failed, a consent in progress) stays.
  return latest.status === 'reconsent_required' && latest.reason?.code === 'reconsent_required' && !latest.pending ? 'write' : 'superseded';
}
