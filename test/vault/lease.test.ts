/**
 * Issue 15, finding 5 (and its acceptance point): a refresh slower than the refresh lock's TTL, with a second
 * replica waiting. The holder renews its lease while the token endpoint is slow, so the other replica never
 * takes the lock over: one refresh at the bank, and the newer token set is the one stored. Two gateways in
 * one process share one store (as replicas share Redis), each served over its own socket; the bank is the
 * SG sandbox with a delayed token endpoint.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, createNodeHandler } from '../../plugin/adapter/node/index.js';
import type { Gateway } from '../../plugin/index.js';
import type { ConnectionStore } from '../../plugin/store/connection.js';
import { createLocalStore } from '../../plugin/store/local-store.js';
import { DEV_KEY, devConnection, sleep, startVaultHarness, STORE_KEY, type VaultHarness } from './vault-harness.js';

const LOCK_TTL_SECONDS = 2;
const TOKEN_DELAY_MS = 3 * LOCK_TTL_SECONDS * 1000;

describe('lease renewal during a slow refresh (finding 5)', () => {
  let h: VaultHarness;
  let b: Gateway;
  let bServer: Server;
  let bUrl: string;
  let offsetMs = 0;
  let lockTaken: (() => void) | undefined;

  beforeAll(async () => {
    const shared = createLocalStore();
    const store: ConnectionStore = {
      ...shared,
      async acquireLock(name, owner, ttlMs) {
        const taken = await shared.acquireLock(name, owner, ttlMs);
        if (taken && name.startsWith('refresh:')) lockTaken?.();
        return taken;
      },
    };
    const now = () => Date.now() + offsetMs;
    h = await startVaultHarness({ accessTtlSeconds: 3600, store: { lockTtlSeconds: LOCK_TTL_SECONDS }, gateway: { store, now } });
    // The second replica: the same config, the same store, its own process-level state and socket.
    b = await createGateway(h.gateway.config, { store, now, env: { ...process.env, BANKGATE_DEV_KEY: DEV_KEY, BANKGATE_STORE_KEY: STORE_KEY } });
    bServer = createServer(createNodeHandler(b));
    await new Promise<void>((resolve) => bServer.listen(0, '127.0.0.1', resolve));
    bUrl = `http://127.0.0.1:${(bServer.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => bServer?.close(() => resolve()));
    await b?.close();
    await h?.close();
  });

  const accounts = (url: string) => fetch(`${url}/sg/aisp/accounts`, { headers: { authorization: `Bearer ${DEV_KEY}`, 'x-connection-id': 'sg-slow' } });

  it('the waiting replica gets the holder\'s result: one refresh at the bank, the newest tokens stored', async () => {
    await h.connect('sg', 'sg-slow');
    const before = (await h.gateway.engine.store.get(devConnection('sg-slow')))!.tokens!;
    // Every refresh answers late (not only the first: a retry must not get a fast answer either).
    await h.faults([{ bank: 'sg', target: 'token', action: 'delay', delayMs: TOKEN_DELAY_MS, grantType: 'refresh_token', times: -1 }]);
    await h.resetStats();
    offsetMs = 3601_000; // every token is past its expiry now
    const taken = new Promise<void>((resolve) => (lockTaken = resolve));
    const first = accounts(h.url);
    await taken;
    // Past the lock's TTL: without renewal the lock would be free for the other replica now.
    await sleep(LOCK_TTL_SECONDS * 1000 + 500);
    const second = accounts(bUrl);
    const [a, c] = await Promise.all([first, second]);
    await fetch(`${h.sandbox.controlUrl}/faults`, { method: 'DELETE' });
    expect([a.status, c.status]).toEqual([200, 200]);
    const stats = await h.stats();
    expect(stats.banks.sg.tokenRequests.refresh_token).toBe(1);
    expect(stats.banks.sg.tokenErrors).toEqual({});
    const stored = (await h.gateway.engine.store.get(devConnection('sg-slow')))!;
    expect(stored.status).toBe('active');
    expect(stored.tokens!.refreshToken).not.toBe(before.refreshToken);
    expect(stored.tokens!.expiresAt).toBeGreaterThan(Date.now() + offsetMs);
    expect(h.logLines.some((l) => l.includes('token.lock_expired') || l.includes('token.lease_lost'))).toBe(false);
  });
});
