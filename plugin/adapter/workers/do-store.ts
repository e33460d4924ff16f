/**
 * Connections in Durable Objects (`durable-object:<BINDING>`): each connection's sealed record is the cell of
 * its own object (`c:<storage id>`), whose version is the record's revision, so `compareAndSet` and `create`
 * are the object's atomic check-and-write; the refresh lock is a lease in the object `l:<name>`; a pending
 * consent's state points to its connection from `s:<state>` (a hint: the connection itself must still wait
 * for that state); rolling windows are objects `w:<key>`. Ids are storage ids (`storageIdOf`). The whole
 * ConnectionStore contract.
 */
import { BankgateError } from '../../errors/bankgate-error.js';
import type { Logger } from '../../log.js';
import { storageIdOf, type Connection, type ConnectionStore, type WindowHit, type WindowPeek } from '../../store/connection.js';
import { checkWindowOptions } from '../../store/local-windows.js';
import type { KeyRing } from '../../store/key-ring.js';
import { openConnection, sealConnection, type SealedConnection } from '../../store/sealed-connection.js';
import { carriesState, statesOf } from '../../store/consent-states.js';
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
export function createDurableObjectStore(options: DurableObjectStoreOptions): ConnectionStore {
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
    for (const { state } of statesOf(connection)) await send(stateObject(state), { op: 'set', value: storageIdOf(connection) });
  }
  async function indexAfter(before: Connection | undefined, after: Connection | undefined): Promise<void> {
    const kept = statesOf(after).map((s) => s.state);
    for (const { state } of statesOf(before)) {
      if (kept.includes(state)) continue;
      await send(stateObject(state), { op: 'cas', expect: (await send<Cell>(stateObject(state), { op: 'get' })).version, value: null });
    }
  }

  /** Writes `connection` at `revision` when the stored revision is `expect`; the stored connection, or undefined. */
  async function write(connection: Connection, expect: number, before: Connection | undefined): Promise<Connection | undefined> {
    await indexBefore(connection);
    const revision = expect + 1;
    const sealed = await sealConnection(keys, connection, revision);
    const result = await send<{ ok: boolean }>(connectionObject(storageIdOf(connection)), { op: 'cas', expect, value: sealed });
    if (!result.ok) return undefined;
    await indexAfter(before, connection);
    return { ...connection, revision };
  }

  return {
    get: async (id) => open(id, await read(id)),

    async put(connection) {
      for (;;) {
        const id = storageIdOf(connection);
        const cell = await read(id);
        const stored = await write(connection, cell.version, await open(id, cell).catch(() => undefined));
        if (stored) return stored;
      }
    },

    create: (connection) => write(connection, 0, undefined),

    async compareAndSet(connection, expectedRevision) {
      const id = storageIdOf(connection);
      const cell = await read(id);
      if (!cell.value || cell.version !== expectedRevision) return undefined;
      return write(connection, expectedRevision, await open(id, cell).catch(() => undefined));
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
      return carriesState(connection, state, Date.now()) ? connection : undefined;
    },

    acquireLock: (name, owner, ttlMs) => send<boolean>(`l:${name}`, { op: 'acquire', owner, ttlMs }),
    renewLock: (name, owner, ttlMs) => send<boolean>(`l:${name}`, { op: 'renew', owner, ttlMs }),
    releaseLock: (name, owner) => send<boolean>(`l:${name}`, { op: 'release', owner }),
    hitWindow(key, { windowMs, limit, now }) {
      checkWindowOptions(key, { windowMs, limit, now });
      return send<WindowHit>(`w:${key}`, { op: 'hit', windowMs, limit, now });
    },
    peekWindow(key, { windowMs, now }) {
      checkWindowOptions(key, { windowMs, now });
      return send<WindowPeek>(`w:${key}`, { op: 'peek', windowMs, now });
    },
    async close() {},
  };
}
