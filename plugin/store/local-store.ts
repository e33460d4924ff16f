import type { Connection, ConnectionStore } from './connection.js';
import { LocalLocks } from './local-locks.js';

/** How a local store makes a write durable before it is visible (the file store); none for memory. */
export interface LocalPersistence {
  write(connection: Connection & { revision: number }): Promise<void>;
  remove(id: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * The connections of one process, indexed by id and by pending `state`, with revisions and owner locks.
 * Writes to one id are serialised, so that the revision check and the durable write happen as one step.
 */
export function createLocalStore(options: { initial?: Iterable<Connection & { revision: number }>; persistence?: LocalPersistence } = {}): ConnectionStore {
  const byId = new Map<string, Connection & { revision: number }>();
  const idByState = new Map<string, string>();
  const queues = new Map<string, Promise<unknown>>();
  const locks = new LocalLocks();
  const persistence = options.persistence;

  const index = (connection: Connection & { revision: number }) => {
    const previous = byId.get(connection.id);
    if (previous?.pending) idByState.delete(previous.pending.state);
    byId.set(connection.id, connection);
    if (connection.pending) idByState.set(connection.pending.state, connection.id);
  };
  for (const connection of options.initial ?? []) index(connection);

  /** Runs `task` after every earlier write to `id`, whatever their outcome. */
  const serial = <T>(id: string, task: () => Promise<T>): Promise<T> => {
    const run = (queues.get(id) ?? Promise.resolve()).then(task, task);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    queues.set(id, settled);
    void settled.then(() => {
      if (queues.get(id) === settled) queues.delete(id);
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
      return serial(connection.id, () => write(connection, (byId.get(connection.id)?.revision ?? 0) + 1));
    },
    compareAndSet(connection, expectedRevision) {
      return serial(connection.id, async () => {
        const current = byId.get(connection.id);
        if (!current || current.revision !== expectedRevision) return undefined;
        return write(connection, expectedRevision + 1);
      });
    },
    delete(id) {
      return serial(id, async () => {
        await persistence?.remove(id);
        const previous = byId.get(id);
        if (previous?.pending) idByState.delete(previous.pending.state);
        byId.delete(id);
      });
    },
    async findByState(state) {
      const id = idByState.get(state);
      return id === undefined ? undefined : byId.get(id);
    },
    async acquireLock(name, owner, ttlMs) {
      return locks.acquire(name, owner, ttlMs);
    },
    async releaseLock(name, owner) {
      return locks.release(name, owner);
    },
    async close() {
      await Promise.all(queues.values());
      await persistence?.close();
    },
  };
}
