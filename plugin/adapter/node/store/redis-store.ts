import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { BankgateError } from '../../../errors/bankgate-error.js';
import type { Logger } from '../../../log.js';
import { storageIdOf, type Connection, type ConnectionStore } from '../../../store/connection.js';
import type { KeyRing } from '../../../store/key-ring.js';
import { OpenedRecords } from '../../../store/opened-records.js';
import { checkWindowOptions } from '../../../store/local-windows.js';
import { storeUnavailable } from '../../../store/store-error.js';
import { ACQUIRE_LOCK_WITH_INTENT, COMPARE_AND_SET, CREATE, HIT_WINDOW, PEEK_WINDOW, PUT, RELEASE_LOCK, RENEW_LOCK } from './redis-scripts.js';

export interface RedisStoreOptions {
  /** `redis://[user:password@]host:port/db` (or `rediss://` for TLS). */
  readonly url: string;
  readonly keys: KeyRing;
  readonly log: Logger;
  /** Prefix of every key. Default `bankgate:`. */
  readonly keyPrefix?: string;
  /** How long one command may take before the call gets 503. Default 2000 ms. */
  readonly commandTimeoutMs?: number;
}

type Scripts = {
  bgPut(conn: string, state: string, data: string, id: string, stateTtl: string): Promise<number>;
  bgCreate(conn: string, state: string, data: string, id: string, stateTtl: string): Promise<number>;
  bgCompareAndSet(conn: string, state: string, data: string, id: string, stateTtl: string, expected: string): Promise<number>;
  bgRenewLock(lock: string, owner: string, ttlMs: string): Promise<number>;
  bgReleaseLock(lock: string, intent: string, owner: string): Promise<number>;
  bgAcquireLockWithIntent(lock: string, intent: string, owner: string, ttlMs: string, value: string, intentTtlMs: string): Promise<[number, string?, string?]>;
  bgHitWindow(window: string, now: string, windowMs: string, limit: string, member: string): Promise<[number, number, number?]>;
  bgPeekWindow(window: string, now: string, windowMs: string): Promise<[number, number]>;
};

/**
 * The store for several replicas: connections sealed (AES-256-GCM) in Redis hashes, the `state` index
 * under a SHA-256 of the state (never the state itself), and refresh locks as `SET NX PX` keys released by
 * compare-and-delete. Every read goes to Redis, so a connection deleted by one replica is gone for all (only
 * the decryption of a record read unchanged is skipped: `OpenedRecords`). While Redis is unreachable every
 * call fails fast with `store_unavailable` (503): no offline queue that would hold calls for minutes; ioredis
 * reconnects by itself and the next call succeeds.
 */
export async function createRedisStore(options: RedisStoreOptions): Promise<ConnectionStore> {
  const { log } = options;
  const records = new OpenedRecords(options.keys);
  const prefix = options.keyPrefix ?? 'bankgate:';
  const label = describeRedis(options.url);
  const redis = new Redis(options.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: options.commandTimeoutMs ?? 2000,
    connectTimeout: 2000,
    // Reconnect for ever, backing off to one attempt a second: Redis coming back is noticed within a second.
    retryStrategy: (times) => Math.min(times * 100, 1000),
  }) as Redis & Scripts;
  redis.defineCommand('bgPut', { numberOfKeys: 2, lua: PUT });
  redis.defineCommand('bgCreate', { numberOfKeys: 2, lua: CREATE });
  redis.defineCommand('bgCompareAndSet', { numberOfKeys: 2, lua: COMPARE_AND_SET });
  redis.defineCommand('bgRenewLock', { numberOfKeys: 1, lua: RENEW_LOCK });
  redis.defineCommand('bgReleaseLock', { numberOfKeys: 2, lua: RELEASE_LOCK });
  redis.defineCommand('bgAcquireLockWithIntent', { numberOfKeys: 2, lua: ACQUIRE_LOCK_WITH_INTENT });
  redis.defineCommand('bgHitWindow', { numberOfKeys: 1, lua: HIT_WINDOW });
  redis.defineCommand('bgPeekWindow', { numberOfKeys: 1, lua: PEEK_WINDOW });

  // One line when Redis goes away (connection lost, error, or a command timing out) and one when it is back.
  let down = false;
  const markDown = (reason: string) => {
    if (down) return;
    down = true;
    log.error('store.unavailable', { store: label, reason });
  };
  redis.on('error', (error: NodeJS.ErrnoException) => markDown(error.code ?? error.name));
  redis.on('close', () => markDown('connection closed'));
  const markUp = () => {
    if (down) log.info('store.recovered', { store: label });
    down = false;
  };
  redis.on('ready', markUp);
  try {
    await redis.connect();
  } catch {
    // Start anyway: calls answer 503 until Redis is reachable, then work without a restart.
    log.error('store.unavailable', { store: label, reason: 'not reachable at start' });
  }

  const connKey = (id: string) => `${prefix}conn:${id}`;
  const stateKey = (state: string) => `${prefix}state:${createHash('sha256').update(state).digest('base64url')}`;
  const lockKey = (name: string) => `${prefix}lock:${name}`;
  const intentKey = (name: string) => `${prefix}intent:${name}`;
  const windowKey = (key: string) => `${prefix}window:${key}`;
  const guard = async <T>(task: () => Promise<T>): Promise<T> => {
    try {
      const result = await task();
      markUp(); // after a hang there is no new 'ready': the first answer is the recovery
      return result;
    } catch (error) {
      if (!(error instanceof BankgateError)) markDown(error instanceof Error ? ((error as NodeJS.ErrnoException).code ?? error.name) : 'error');
      throw storeUnavailable(label, error);
    }
  };
  const writeArgs = async (connection: Connection, revision: number) => {
    // The state index follows the pending consent, then its settled outcome (a second callback delivery finds it).
    const consent = connection.pending ?? connection.settledConsent;
    const stateTtl = consent ? Math.max(1, consent.expiresAt - Date.now()) : 0;
    const id = storageIdOf(connection);
    return [connKey(id), consent ? stateKey(consent.state) : '', (await records.seal(connection, revision)).sealed, id, String(stateTtl)] as const;
  };

  const store: ConnectionStore = {
    get: (id) =>
      guard(async () => {
        const [rev, data] = await redis.hmget(connKey(id), 'rev', 'data');
        if (rev === null || data === null) return undefined;
        return records.open(id, { revision: Number(rev), sealed: data });
      }),
    put: (connection) =>
      guard(async () => {
        // Redis counts the revision (HINCRBY in the script); the sealed data does not carry it.
        const revision = await redis.bgPut(...(await writeArgs(connection, 0)));
        return { ...connection, revision: Number(revision) };
      }),
    create: (connection) =>
      guard(async () => {
        const created = await redis.bgCreate(...(await writeArgs(connection, 1)));
        return Number(created) === 1 ? { ...connection, revision: 1 } : undefined;
      }),
    compareAndSet: (connection, expectedRevision) =>
      guard(async () => {
        const revision = await redis.bgCompareAndSet(...(await writeArgs(connection, expectedRevision + 1)), String(expectedRevision));
        return Number(revision) === 0 ? undefined : { ...connection, revision: Number(revision) };
      }),
    delete: (id) =>
      guard(async () => {
        records.forget(id);
        await redis.del(connKey(id));
      }),
    findByState: (state) =>
      guard(async () => {
        const id = await redis.get(stateKey(state));
        if (id === null) return undefined;
        const connection = await store.get(id);
        if (connection?.pending?.state === state) return connection;
        return connection?.settledConsent?.state === state && connection.settledConsent.expiresAt > Date.now() ? connection : undefined;
      }),
    acquireLock: (name, owner, ttlMs) => guard(async () => (await redis.set(lockKey(name), owner, 'PX', ttlMs, 'NX')) === 'OK'),
    renewLock: (name, owner, ttlMs) => guard(async () => Number(await redis.bgRenewLock(lockKey(name), owner, String(ttlMs))) === 1),
    releaseLock: (name, owner) => guard(async () => Number(await redis.bgReleaseLock(lockKey(name), intentKey(name), owner)) === 1),
    acquireLockWithIntent: (name, owner, ttlMs, intent) =>
      guard(async () => {
        const [taken, previousOwner, previousValue] = await redis.bgAcquireLockWithIntent(lockKey(name), intentKey(name), owner, String(ttlMs), intent.value, String(intent.ttlMs));
        return Number(taken) === 1 ? { acquired: true, ...(previousOwner && previousValue ? { unresolved: { owner: previousOwner, value: previousValue } } : {}) } : { acquired: false };
      }),
    hitWindow: async (key, { windowMs, now, limit }) => {
      checkWindowOptions(key, { windowMs, now, limit });
      return guard(async () => {
        const [allowed, count, retryAfterMs] = await redis.bgHitWindow(windowKey(key), String(now), String(windowMs), String(limit), `${now}:${crypto.randomUUID()}`);
        return allowed === 1 ? { allowed: true, count: Number(count) } : { allowed: false, count: Number(count), retryAfterMs: Math.max(1, Number(retryAfterMs)) };
      });
    },
    peekWindow: async (key, { windowMs, now }) => {
      checkWindowOptions(key, { windowMs, now });
      return guard(async () => {
        const [count, oldest] = await redis.bgPeekWindow(windowKey(key), String(now), String(windowMs));
        return Number(count) === 0 ? { count: 0 } : { count: Number(count), resetAt: Number(oldest) + windowMs };
      });
    },
    async close() {
      redis.disconnect();
    },
  };
  return store;
}

/** `redis host:port/db`, for messages: never the password of the URL. */
export function describeRedis(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol.replace(/:$/, '')} ${parsed.hostname}:${parsed.port || 6379}${parsed.pathname && parsed.pathname !== '/' ? parsed.pathname : '/0'}`;
  } catch {
    return 'redis';
  }
}
