import { storageIdOf, type Connection, type ConnectionStore } from './connection.js';
import { LocalLocks } from './local-locks.js';
import { checkWindowOptions, LocalWindows } from './local-windows.js';

/** How a local store makes a write durable before it is visible (the file store); none for memory. */
export interface LocalPersistence {
  write(connection: Connection & { revision: number }): Promise<void>;
  remove(storageId: string): Promise<void>;
  /** The hits of a rolling window after a counted hit (an empty list: the window is gone). */
  writeWindow?(key: string, hits: readonly number[]): Promise<void>;
  close(): Promise<void>;
}

export interface LocalStoreOptions {
  readonly initial?: Iterable<Connection & { revision: number }>;
  readonly initialWindows?: Iterable<[string, readonly number[]]>;
  readonly persistence?: LocalPersistence;
  /** The clock of lock leases. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * The connections of one process, indexed by storage id and by consent `state`, with revisions, owner locks
 * and rolling windows. Writes to one id (and hits of one window) are serialised, so that the check and the
 * durable write happen as one step: `create` is create-if-absent, `compareAndSet` a real compare-and-set.
 */
export function createLocalStore(options: LocalStoreOptions = {}): ConnectionStore {
  const byId = new Map<string, Connection & { revision: number }>();
  const idByState = new Map<string, string>();
  const queues = new Map<string, Promise<unknown>>();
  const locks = new LocalLocks(options.now);
  const windows = new LocalWindows(options.initialWindows);
  const persistence = options.persistence;

  const statesOf = (connection: Connection | undefined) => [connection?.pending?.state, connection?.settledConsent?.state].filter((s): s is string => s !== undefined);
  const index = (connection: Connection & { revision: number }) => {
    const id = storageIdOf(connection);
    for (const state of statesOf(byId.get(id))) if (idByState.get(state) === id) idByState.delete(state);
    byId.set(id, connection);
    for (const state of statesOf(connection)) idByState.set(state, id);
  };
  for (const connection of options.initial ?? []) index(connection);

  /** Runs `task` after every earlier task queued under `key`, whatever their outcome. */
  const serial = <T>(key: string, task: () => Promise<T>): Promise<T> => {
    const run = (queues.get(key) ?? Promise.resolve()).then(task, task);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    queues.set(key, settled);
    void settled.then(() => {
      if (queues.get(key) === settled) queues.delete(key);
    });
    return run;
  };

  const write = async (connection: Connection, revision: number) => {
    const stored = { ...connection, revision };
    await persistence?.write(stored);
    index(stored);
    return stored;
  };

  return {
    async get(id) {
      return byId.get(id);
    },
    put(connection) {
      const id = storageIdOf(connection);
      return serial(id, () => write(connection, (byId.get(id)?.revision ?? 0) + 1));
    },
    create(connection) {
      const id = storageIdOf(connection);
      return serial(id, async () => (byId.has(id) ? undefined : write(connection, 1)));
    },
    compareAndSet(connection, expectedRevision) {
      const id = storageIdOf(connection);
      return serial(id, async () => {
        const current = byId.get(id);
        if (!current || current.revision !== expectedRevision) return undefined;
        return write(connection, expectedRevision + 1);
      });
    },
    delete(id) {
      return serial(id, async () => {
        await persistence?.remove(id);
        const previous = byId.get(id);
        for (const state of statesOf(previous)) if (idByState.get(state) === id) idByState.delete(state);
        byId.delete(id);
      });
    },
    async findByState(state) {
      const id = idByState.get(state);
      const connection = id === undefined ? undefined : byId.get(id);
      if (!connection) return undefined;
      if (connection.pending?.state === state) return connection;
      return connection.settledConsent?.state === state && connection.settledConsent.expiresAt > (options.now ?? Date.now)() ? connection : undefined;
    },
    async acquireLock(name, owner, ttlMs) {
      return locks.acquire(name, owner, ttlMs);
    },
    async renewLock(name, owner, ttlMs) {
      return locks.renew(name, owner, ttlMs);
    },
    async releaseLock(name, owner) {
      return locks.release(name, owner);
    },
    async hitWindow(key, hitOptions) {
      checkWindowOptions(key, hitOptions);
      return serial(`window\u0000${key}`, async () => {
        const { result, hits } = windows.plan(key, hitOptions);
        if (!result.allowed) return result;
        await persistence?.writeWindow?.(key, hits);
        windows.set(key, hits);
        return result;
      });
    },
    async peekWindow(key, peekOptions) {
      checkWindowOptions(key, peekOptions);
      return windows.peek(key, peekOptions);
    },
    async close() {
      await Promise.all(queues.values());
      await persistence?.close();
    },
  };
}
