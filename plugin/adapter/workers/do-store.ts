/**
 * Connections in Durable Objects (`durable-object:<BINDING>`): each connection's sealed record is the cell of
 * its own object (`c:<storage id>`), whose version is the record's revision, so `compareAndSet` and `create`
 * are the object's atomic check-and-write; the refresh lock is a lease in the object `l:<name>`; a pending
 * consent's state points to its connection from `s:<state>` (a hint: the connection itself must still wait
 * for that state); rolling windows are objects `w:<key>`. Implements the ConnectionStore v2 contract.
 */
import { BankgateError } from '../../errors/bankgate-error.js';
import type { Logger } from '../../log.js';
import type { Connection } from '../../store/connection.js';
import type { ConnectionStoreV2, WindowHit, WindowPeek } from '../../store/contract-v2.js';
import type { KeyRing } from '../../store/key-ring.js';
import { openConnection, sealConnection, type SealedConnection } from '../../store/sealed-connection.js';
import type { CellOperation } from './store-object.js';
import type { DurableObjectNamespace } from './workers-api.js';

export interface DurableObjectStoreOptions {
  readonly namespace: DurableObjectNamespace;
  readonly keys: KeyRing;
  readonly log?: Logger;
}

interface Cell {
  readonly version: number;
  readonly value: unknown;
}

/**
 * @example const store = createDurableObjectStore({ namespace: env.BANKGATE_STORE, keys });
 */
export function createDurableObjectStore(options: DurableObjectStoreOptions): ConnectionStoreV2 {
  const { namespace, keys } = options;

  async function send<T>(name: string, operation: CellOperation): Promise<T> {
    let response: Response;
    try {
      const stub = namespace.get(namespace.idFromName(name));
      response = await stub.fetch('https://bankgate-store/', { method: 'POST', body: JSON.stringify(operation) });
    } catch (error) {
      options.log?.error('store.unavailable', { store: 'durable-object', operation: operation.op, error: (error as Error)?.name });
      throw new BankgateError('store_unavailable', { status: 503, detail: 'the Durable Object store did not answer; retry shortly', cause: error });
    }
    if (!response.ok) {
      options.log?.error('store.unavailable', { store: 'durable-object', operation: operation.op, status: response.status });
      throw new BankgateError('store_unavailable', { status: 503, detail: `the Durable Object store answered ${response.status}; retry shortly` });
    }
    return (await response.json()) as T;
  }

  const connectionObject = (id: string) => `c:${id}`;
  const stateObject = (state: string) => `s:${state}`;
  const read = (id: string) => send<Cell>(connectionObject(id), { op: 'get' });
  const open = async (id: string, cell: Cell) => (cell.value ? openConnection(keys, id, cell.value as SealedConnection) : undefined);

  /** Points the new pending state at the connection before the write; forgets the old one after it. */
  async function indexBefore(connection: Connection): Promise<void> {
    const state = connection.pending?.state;
    if (state !== undefined) await send(stateObject(state), { op: 'set', value: connection.id });
  }
  async function indexAfter(before: Connection | undefined, after: Connection | undefined): Promise<void> {
    const old = before?.pending?.state;
    if (old !== undefined && old !== after?.pending?.state) await send(stateObject(old), { op: 'cas', expect: (await send<Cell>(stateObject(old), { op: 'get' })).version, value: null });
  }

  /** Writes `connection` at `revision` when the stored revision is `expect`; the stored connection, or undefined. */
  async function write(connection: Connection, expect: number, before: Connection | undefined): Promise<Connection | undefined> {
    await indexBefore(connection);
    const revision = expect + 1;
    const sealed = await sealConnection(keys, connection, revision);
    const result = await send<{ ok: boolean }>(connectionObject(connection.id), { op: 'cas', expect, value: sealed });
    if (!result.ok) return undefined;
    await indexAfter(before, connection);
    return { ...connection, revision };
  }

  return {
    get: async (id) => open(id, await read(id)),

    async put(connection) {
      for (;;) {
        const cell = await read(connection.id);
        const stored = await write(connection, cell.version, await open(connection.id, cell).catch(() => undefined));
        if (stored) return stored;
      }
    },

    create: (connection) => write(connection, 0, undefined),

    async compareAndSet(connection, expectedRevision) {
      const cell = await read(connection.id);
      if (!cell.value || cell.version !== expectedRevision) return undefined;
      return write(connection, expectedRevision, await open(connection.id, cell).catch(() => undefined));
    },

    async delete(id) {
      for (;;) {
        const cell = await read(id);
        if (!cell.value) return;
        const before = await open(id, cell).catch(() => undefined);
        if ((await send<{ ok: boolean }>(connectionObject(id), { op: 'cas', expect: cell.version, value: null })).ok) {
          await indexAfter(before, undefined);
          return;
        }
      }
    },

    async findByState(state) {
      const id = (await send<Cell>(stateObject(state), { op: 'get' })).value;
      if (typeof id !== 'string') return undefined;
      const connection = await open(id, await read(id));
      return connection?.pending?.state === state ? connection : undefined;
    },

    acquireLock: (name, owner, ttlMs) => send<boolean>(`l:${name}`, { op: 'acquire', owner, ttlMs }),
    renewLock: (name, owner, ttlMs) => send<boolean>(`l:${name}`, { op: 'renew', owner, ttlMs }),
    releaseLock: (name, owner) => send<boolean>(`l:${name}`, { op: 'release', owner }),
    hitWindow: (key, { windowMs, limit, now }) => send<WindowHit>(`w:${key}`, { op: 'hit', windowMs, limit, now }),
    peekWindow: (key, { windowMs, now }) => send<WindowPeek>(`w:${key}`, { op: 'peek', windowMs, now }),
    async close() {},
  };
}
