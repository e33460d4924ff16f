/**
 * Connections in Deno KV: every write is an atomic `check(entry).set(…).commit()`, a real compare-and-set on
 * the entry's versionstamp, so replicas sharing a KV database (Deno Deploy, or one file locally) never lose a
 * rotated refresh token. Records are sealed (AES-256-GCM, bound to the connection id) like every other store's;
 * the revision stays in clear for compare-and-set. Locks carry their owner and expiry; rolling windows keep the
 * timestamps of their hits. Implements the ConnectionStore v2 contract.
 */
import { BankgateError } from '../../errors/bankgate-error.js';
import type { Logger } from '../../log.js';
import type { Connection } from '../../store/connection.js';
import { inWindow, type ConnectionStoreV2, type WindowHit } from '../../store/contract-v2.js';
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
export function createDenoKvStore(options: DenoKvStoreOptions): ConnectionStoreV2 {
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
    const sealed = await sealConnection(keys, connection, revision);
    atomic.set(connectionKey(connection.id), sealed);
    const before = previous ? await openConnection(keys, connection.id, previous).catch(() => undefined) : undefined;
    const oldState = before?.pending?.state;
    const newState = connection.pending?.state;
    if (oldState !== undefined && oldState !== newState) atomic.delete(stateKey(oldState));
    if (newState !== undefined) atomic.set(stateKey(newState), connection.id, { expireIn: Math.max(1000, connection.pending!.expiresAt - now() + STATE_SLACK_MS) });
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
        const entry = await read(connection.id);
        const atomic = kv.atomic().check(entry);
        return { atomic, result: await stage(atomic, connection, entry.value, (entry.value?.revision ?? 0) + 1) };
      }),

    create: (connection) =>
      guarded('create a connection', async () => {
        const atomic = kv.atomic().check({ key: connectionKey(connection.id), versionstamp: null });
        const stored = await stage(atomic, connection, null, 1);
        return (await atomic.commit()).ok ? stored : undefined;
      }),

    compareAndSet: (connection, expectedRevision) =>
      commitLoop('update a connection', async () => {
        const entry = await read(connection.id);
        if (!entry.value || entry.value.revision !== expectedRevision) return { done: undefined };
        const atomic = kv.atomic().check(entry);
        return { atomic, result: (await stage(atomic, connection, entry.value, expectedRevision + 1)) as Connection | undefined };
      }),

    delete: (id) =>
      commitLoop('delete a connection', async () => {
        const entry = await read(id);
        if (!entry.value) return { done: undefined };
        const atomic = kv.atomic().check(entry).delete(connectionKey(id));
        const state = (await open(id, entry).catch(() => undefined))?.pending?.state;
        if (state !== undefined) atomic.delete(stateKey(state));
        return { atomic, result: undefined };
      }),

    findByState: (state) =>
      guarded('find a pending consent', async () => {
        const id = (await kv.get<string>(stateKey(state), { consistency: 'strong' })).value;
        if (id === null) return undefined;
        const connection = await open(id, await read(id));
        // The index is a hint: the connection itself must still wait for this state.
        return connection?.pending?.state === state ? connection : undefined;
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

    hitWindow: (key, { windowMs, limit, now: at }) =>
      commitLoop<WindowHit>('count a call', async () => {
        const entry = await kv.get<readonly number[]>(windowKey(key), { consistency: 'strong' });
        const hits = inWindow(entry.value ?? [], windowMs, at);
        if (hits.length >= limit) return { done: { allowed: false, count: hits.length, retryAfterMs: Math.max(0, hits[0]! + windowMs - at) } };
        hits.push(at);
        return { atomic: kv.atomic().check(entry).set(windowKey(key), hits, { expireIn: windowMs }), result: { allowed: true, count: hits.length } };
      }),

    peekWindow: (key, { windowMs, now: at }) =>
      guarded('read a call count', async () => {
        const hits = inWindow((await kv.get<readonly number[]>(windowKey(key), { consistency: 'strong' })).value ?? [], windowMs, at);
        return hits.length === 0 ? { count: 0 } : { count: hits.length, resetAt: hits[0]! + windowMs };
      }),

    async close() {
      if (options.ownsKv) kv.close();
    },
  };
}
