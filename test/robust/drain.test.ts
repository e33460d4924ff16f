/**
 * Issue 15, brief s21 item 1, in process: `gateway.close()` drains. A gateway on real Redis in front of the SG-like
 * sandbox (rotating refresh tokens); a refresh is at the bank (`delay` fault) and its store write is slow (the
 * store injected behind a wrapper that holds compareAndSet a moment, as a loaded Redis does) when the gateway is
 * closed. The close must wait for that write before it disconnects Redis (the Redis store's close cuts commands in
 * flight), and meanwhile refuse to start another refresh (503, retryable, nothing sent to the bank). Afterwards
 * Redis holds the set the bank issued, and the bank saw one refresh.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJsonLogger } from '../../plugin/adapter/node/index.js';
import { createRedisStore } from '../../plugin/adapter/node/store/redis-store.js';
import { BankgateError } from '../../plugin/errors/bankgate-error.js';
import type { BankgateConfig } from '../../plugin/index.js';
import type { ConnectionStore } from '../../plugin/store/connection.js';
import { KeyRing, parseStoreKey } from '../../plugin/store/key-ring.js';
import { tokenHash, type LedgerSnapshot } from '../../sandbox/sg/refresh-ledger.js';
import { startRedis, type RedisServer } from '../vault/redis-server.js';
import { devConnection, sleep, startVaultHarness, STORE_KEY, type VaultHarness } from '../vault/vault-harness.js';

/** Past the sandbox's 3600 s access tokens: every call needs a refresh. */
const EXPIRED_MS = 3601_000;

/** The store with its compareAndSet held `slowMs` while `slowMs` is set (the refresh's store write). */
function slowWrites(inner: ConnectionStore): ConnectionStore & { slowMs: number } {
  const wrapped = Object.create(null) as Record<string, unknown> & { slowMs: number };
  wrapped.slowMs = 0;
  for (const [name, method] of Object.entries(inner as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)) {
    if (typeof method !== 'function') continue;
    wrapped[name] = async (...args: unknown[]) => {
      if (name === 'compareAndSet' && wrapped.slowMs > 0) await sleep(wrapped.slowMs);
      return method.apply(inner, args);
    };
  }
  return wrapped as unknown as ConnectionStore & { slowMs: number };
}

describe('gateway.close() while a refresh is at the bank and its store write is slow', () => {
  let redis: RedisServer;
  let harness: VaultHarness;
  let store: ConnectionStore & { slowMs: number };
  let raw: ConnectionStore;
  let offsetMs = 0;

  beforeAll(async () => {
    redis = await startRedis();
    const keys = new KeyRing(await parseStoreKey(STORE_KEY, 'store key'));
    const log = createJsonLogger(() => {});
    store = slowWrites(await createRedisStore({ url: redis.url, keys, log }));
    harness = await startVaultHarness({ accessTtlSeconds: 3600, store: { url: redis.url } as BankgateConfig['store'], gateway: { store, now: () => Date.now() + offsetMs } });
    raw = await createRedisStore({ url: redis.url, keys, log });
  }, 60_000);
  afterAll(async () => {
    await harness?.close().catch(() => {}); // its gateway is closed already
    await raw?.close();
    await redis?.stop();
  });

  it('waits for the write, refuses a new refresh meanwhile (503 gateway_stopping), and Redis holds the set the bank issued', async () => {
    await harness.connect('sg', 'drain-1');
    await harness.connect('sg', 'drain-2');
    const other = (await raw.get(devConnection('drain-2')))!;
    offsetMs = EXPIRED_MS;
    await harness.resetStats();
    await harness.faults([{ bank: 'sg', target: 'token', action: 'delay', delayMs: 500, grantType: 'refresh_token' }]);
    store.slowMs = 400;
    const pending = harness.call('/sg/aisp/accounts', { headers: { 'x-connection-id': 'drain-1' } }).catch(() => undefined);
    for (let i = 0; ((await (await fetch(`${harness.sandbox.controlUrl}/faults`)).json()) as unknown[]).length > 0; i++) {
      if (i > 500) throw new Error('the refresh never reached the bank');
      await sleep(10);
    }
    const closing = harness.gateway.close();
    // Another connection that needs a refresh while the gateway stops: refused, retryable; the bank is not asked.
    const refused = await harness.gateway.engine.psuAccessToken(other).then(
      () => undefined,
      (error: unknown) => error,
    );
    await closing;
    await pending;
    const stored = (await raw.get(devConnection('drain-1')))!;
    const ledger = (await (await fetch(`${harness.sandbox.controlUrl}/refresh-ledger`)).json()) as LedgerSnapshot;
    const refreshes = ledger.issuances.filter((issuance) => issuance.grantType === 'refresh_token');
    expect({
      refused: refused instanceof BankgateError ? { code: refused.code, status: refused.status, reason: refused.extra?.reason, retryable: refused.extra?.retryable } : String(refused),
      refreshesAtTheBank: refreshes.length,
      status: stored.status,
      storedIsTheIssuedToken: tokenHash(stored.tokens!.refreshToken!) === refreshes[0]?.issuedHash,
      drained: harness.logLines.some((line) => line.includes('"gateway.drained"')),
    }).toEqual({ refused: { code: 'token_refresh_failed', status: 503, reason: 'gateway_stopping', retryable: true }, refreshesAtTheBank: 1, status: 'active', storedIsTheIssuedToken: true, drained: true });
  }, 60_000);
});
