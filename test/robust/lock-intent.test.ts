/**
 * The Redis store's lock intent (issue 15, brief s21 item 3), on a real Redis: `acquireLockWithIntent` records
 * the holder's intent with the lock in one script; the next holder learns an intent its owner never released;
 * `releaseLock` by the intent's owner clears it, even after its lease ran out and another owner holds the lock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJsonLogger } from '../../plugin/adapter/node/index.js';
import { createRedisStore } from '../../plugin/adapter/node/store/redis-store.js';
import type { ConnectionStore } from '../../plugin/store/connection.js';
import { KeyRing, parseStoreKey } from '../../plugin/store/key-ring.js';
import { startRedis, type RedisServer } from '../vault/redis-server.js';
import { sleep, STORE_KEY } from '../vault/vault-harness.js';

describe('Redis lock intents', () => {
  let redis: RedisServer;
  let store: ConnectionStore;
  beforeAll(async () => {
    redis = await startRedis();
    store = await createRedisStore({ url: redis.url, keys: new KeyRing(await parseStoreKey(STORE_KEY, 'store key')), log: createJsonLogger(() => {}) });
  });
  afterAll(async () => {
    await store?.close();
    await redis?.stop();
  });
  const intent = (value: string) => ({ value, ttlMs: 60_000 });

  it('a released lock leaves no intent: the next holder takes it with nothing in doubt', async () => {
    expect(await store.acquireLockWithIntent!('refresh:a', 'one', 5000, intent('v1'))).toEqual({ acquired: true });
    expect(await store.acquireLockWithIntent!('refresh:a', 'two', 5000, intent('v1'))).toEqual({ acquired: false });
    expect(await store.releaseLock('refresh:a', 'one')).toBe(true);
    expect(await store.acquireLockWithIntent!('refresh:a', 'two', 5000, intent('v2'))).toEqual({ acquired: true });
    expect(await store.releaseLock('refresh:a', 'two')).toBe(true);
  });

  it('a holder that never released: its intent outlives its lease and is handed to the next holder, once', async () => {
    expect(await store.acquireLockWithIntent!('refresh:b', 'dead', 100, intent('v1'))).toEqual({ acquired: true });
    await sleep(150); // the lease ran out
    expect(await store.acquireLockWithIntent!('refresh:b', 'next', 5000, intent('v1'))).toEqual({ acquired: true, unresolved: { owner: 'dead', value: 'v1' } });
    // The late holder's release neither frees the new holder's lock nor clears the new holder's intent.
    expect(await store.releaseLock('refresh:b', 'dead')).toBe(false);
    expect(await store.releaseLock('refresh:b', 'next')).toBe(true);
    expect(await store.acquireLockWithIntent!('refresh:b', 'third', 5000, intent('v2'))).toEqual({ acquired: true });
  });

  it('the owner of an intent clears it when it resolves late (its lease ran out, nobody took the lock)', async () => {
    expect(await store.acquireLockWithIntent!('refresh:c', 'slow', 100, intent('v1'))).toEqual({ acquired: true });
    await sleep(150);
    expect(await store.releaseLock('refresh:c', 'slow')).toBe(false); // the lock was gone, the intent is cleared
    expect(await store.acquireLockWithIntent!('refresh:c', 'next', 5000, intent('v2'))).toEqual({ acquired: true });
  });
});
