/**
 * Connections in Deno KV: every write is an atomic `check(entry).set(…).commit()`, a real compare-and-set on
 * the entry's versionstamp, so replicas sharing a KV database (Deno Deploy, or one file locally) never lose a
 * rotated refresh token. Records are sealed (AES-256-GCM, bound to the connection id) like every other store's;
 * the revision stays in clear for compare-and-set. Entries are keyed by the storage id (`storageIdOf`). Locks
 * carry their owner and expiry; rolling windows keep the times of their hits. The whole ConnectionStore contract.
 */
import { BankgateError } from '../../errors/bankgate-error.js';
import type { Logger } from '../../log.js';
import { storageIdOf, type Connection, type ConnectionStore, type WindowHit } from '../../store/connection.js';
import { carriesState, statesOf } from '../../store/consent-states.js';
import { checkWindowOptions } from '../../store/local-windows.js';
import { peekHits, planHit } from '../../store/window-hits.js';
import type { KeyRing } from '../../store/key-ring.js';
import { openConnection, sealConnection, type SealedConnection } from '../../store/sealed-connection.js';
import type { DenoKv, DenoKvAtomic, DenoKvEntry } from './deno-api.js';

export interface DenoKvStoreOptions {
  readonly kv: DenoKv;
  readonly keys: KeyRing;
  /** First key part of every entry; default `bankgate`. Lets several gateways (or tests) share one database. */
  readonly prefix?: string;
  readonly log?: Logger;
  /** Close the database with the store (it was opened for it). */
  readonly ownsKv?: boolean;
  readonly now?: () => number;
}

interface LockValue {
  readonly owner: string;
  readonly expiresAt: number;
}

/** One try of a check-and-set: the writes staged on `atomic` and what they return, or an answer without writing. */
type CommitStep<T> = { atomic: DenoKvAtomic; result: T } | { done: T };

/** A pending consent's state stays findable a little past its expiry (the callback's own check refuses it). */
const STATE_SLACK_MS = 60_000;
const MAX_ATTEMPTS = 32;

/**
 * Opens the store on a Deno KV database.
 * @example const store = createDenoKvStore({ kv: await Deno.openKv('./.bankgate/tokens.kv'), keys, ownsKv: true });
 */
export function createDenoKvStore(options: DenoKvStoreOptions): ConnectionStore {
  const { kv, keys } = options;
  const prefix = options.prefix ?? 'bankgate';
  const now = options.now ?? Date.now;
  const connectionKey = (id: string) => [prefix, 'c', id];
  const stateKey = (state: string) => [prefix, 's', state];
  const lockKey = (name: string) => [prefix, 'l', name];
  const windowKey = (key: string) => [prefix, 'w', key];

  /** Every KV failure is the store being unavailable (503), never a thrown driver error. */
  async function guarded<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof BankgateError) throw error;
      options.log?.error('store.unavailable', { store: 'deno-kv', operation: what, error: (error as Error)?.name });
      throw new BankgateError('store_unavailable', { status: 503, detail: `the Deno KV store failed to ${what}; retry shortly`, cause: error });
    }
  }

  const read = (id: string) => kv.get<SealedConnection>(connectionKey(id), { consistency: 'strong' });
  const open = async (id: string, entry: DenoKvEntry<SealedConnection>) => (entry.value ? openConnection(keys, id, entry.value) : undefined);

  /** The writes of one connection and its state index, after the checks already on `atomic`. */
  async function stage(atomic: DenoKvAtomic, connection: Connection, previous: SealedConnection | null, revision: number): Promise<Connection> {
    const id = storageIdOf(connection);
    const sealed = await sealConnection(keys, connection, revision);
    atomic.set(connectionKey(id), sealed);
    const before = previous ? await openConnection(keys, id, previous).catch(() => undefined) : undefined;
    const next = statesOf(connection);
    for (const { state } of statesOf(before)) if (!next.some((s) => s.state === state)) atomic.delete(stateKey(state));
    for (const { state, expiresAt } of next) atomic.set(stateKey(state), id, { expireIn: Math.max(1000, expiresAt - now() + STATE_SLACK_MS) });
    return { ...connection, revision };
  }

  /** Retries a check-and-set until it commits or `attempt` gives up (returns a result instead of a write). */
  async function commitLoop<T>(what: string, attempt: () => Promise<CommitStep<T>>): Promise<T> {
    return guarded(what, async () => {
      for (let tries = 0; tries < MAX_ATTEMPTS; tries++) {
        const step = await attempt();
        if ('done' in step) return step.done;
        if ((await step.atomic.commit()).ok) return step.result;
      }
      throw new BankgateError('store_unavailable', { status: 503, detail: `the Deno KV store kept changing while trying to ${what}; retry shortly` });
    });
  }

  return {
    get: (id) => guarded('read a connection', async () => open(id, await read(id))),

    put: (connection) =>
      commitLoop('store a connection', async () => {
        const entry = await read(storageIdOf(connection));
        const atomic = kv.atomic().check(entry);
        return { atomic, result: await stage(atomic, connection, entry.value, (entry.value?.revision ?? 0) + 1) };
      }),

    create: (connection) =>
      guarded('create a connection', async () => {
        const atomic = kv.atomic().check({ key: connectionKey(storageIdOf(connection)), versionstamp: null });
        const stored = await stage(atomic, connection, null, 1);
        return (await atomic.commit()).ok ? stored : undefined;
      }),

    compareAndSet: (connection, expectedRevision) =>
      commitLoop('update a connection', async () => {
        const entry = await read(storageIdOf(connection));
        if (!entry.value || entry.value.revision !== expectedRevision) return { done: undefined };
        const atomic = kv.atomic().check(entry);
        return { atomic, result: (await stage(atomic, connection, entry.value, expectedRevision + 1)) as Connection | undefined };
      }),

    delete: (id) =>
      commitLoop('delete a connection', async () => {
        const entry = await read(id);
        if (!entry.value) return { done: undefined };
        const atomic = kv.atomic().check(entry).delete(connectionKey(id));
        for (const { state } of statesOf(await open(id, entry).catch(() => undefined))) atomic.delete(stateKey(state));
        return { atomic, result: undefined };
      }),

    findByState: (state) =>
      guarded('find a pending consent', async () => {
        const id = (await kv.get<string>(stateKey(state), { consistency: 'strong' })).value;
        if (id === null) return undefined;
        const connection = await open(id, await read(id));
        // The index is a hint: the connection itself must still carry this state.
        return carriesState(connection, state, now()) ? connection : undefined;
      }),

    acquireLock: (name, owner, ttlMs) =>
      commitLoop<boolean>('take a lock', async () => {
        const entry = await kv.get<LockValue>(lockKey(name), { consistency: 'strong' });
        if (entry.value && entry.value.expiresAt > now()) return { done: false };
        const atomic = kv.atomic().check(entry).set(lockKey(name), { owner, expiresAt: now() + ttlMs } satisfies LockValue, { expireIn: ttlMs });
        return { atomic, result: true };
      }),

    renewLock: (name, owner, ttlMs) =>
      commitLoop<boolean>('renew a lock', async () => {
        const entry = await kv.get<LockValue>(lockKey(name), { consistency: 'strong' });
        if (!entry.value || entry.value.owner !== owner || entry.value.expiresAt <= now()) return { done: false };
        const atomic = kv.atomic().check(entry).set(lockKey(name), { owner, expiresAt: now() + ttlMs } satisfies LockValue, { expireIn: ttlMs });
        return { atomic, result: true };
      }),

    releaseLock: (name, owner) =>
      commitLoop<boolean>('release a lock', async () => {
        const entry = await kv.get<LockValue>(lockKey(name), { consistency: 'strong' });
        if (!entry.value || entry.value.owner !== owner) return { done: false };
        return { atomic: kv.atomic().check(entry).delete(lockKey(name)), result: true };
      }),

    hitWindow: (key, options) => {
      checkWindowOptions(key, options);
      return commitLoop<WindowHit>('count a call', async () => {
        const entry = await kv.get<readonly number[]>(windowKey(key), { consistency: 'strong' });
        const { result, hits } = planHit(entry.value ?? [], options);
        if (!result.allowed) return { done: result };
        return { atomic: kv.atomic().check(entry).set(windowKey(key), hits, { expireIn: options.windowMs }), result };
      });
    },

    peekWindow: (key, options) => {
      checkWindowOptions(key, options);
      return guarded('read a call count', async () => peekHits((await kv.get<readonly number[]>(windowKey(key), { consistency: 'strong' })).value ?? [], options));
    },

    async close() {
      if (options.ownsKv) kv.close();
    },
  };
}
