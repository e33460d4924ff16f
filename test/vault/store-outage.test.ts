/**
 * Redis outages: calls get a clear 503 problem (`store_unavailable`), the gateway recovers by itself when
 * Redis is back, and no connection is lost. Redis hangs (SIGSTOP) and dies (kill -9, restarted on the same
 * port with its append-only file).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from './redis-server.js';
import { sleep, startVaultHarness, type VaultHarness } from './vault-harness.js';

describe('the Redis store going away and coming back', () => {
  let redisDir: string;
  let redis: RedisServer;
  let h: VaultHarness;
  beforeAll(async () => {
    redisDir = mkdtempSync(join(tmpdir(), 'bankgate-redis-'));
    redis = await startRedis({ persistDir: redisDir });
    h = await startVaultHarness({ store: redis.url });
    await h.connect('sg', 'sg-outage');
  });
  afterAll(async () => {
    await h?.close();
    await redis?.stop();
    rmSync(redisDir, { recursive: true, force: true });
  });

  const accounts = () => h.call('/sg/aisp/accounts', { headers: { 'x-connection-id': 'sg-outage' } });
  async function expectStoreUnavailable(response: Response) {
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = (await response.json()) as { code: string; title: string; detail: string };
    expect(problem.code).toBe('store_unavailable');
    expect(problem.title).toBe('Token store unavailable');
    expect(problem.detail).toContain(`127.0.0.1:${redis.port}`);
  }
  async function eventually(check: () => Promise<boolean>, ms: number) {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (await check()) return true;
      await sleep(100);
    }
    return false;
  }

  it('Redis hangs: a 503 within the command timeout, then service again as soon as it answers', async () => {
    expect((await accounts()).status).toBe(200);
    redis.pause();
    const started = Date.now();
    try {
      await expectStoreUnavailable(await accounts());
      expect(Date.now() - started).toBeLessThan(4000);
    } finally {
      redis.resume();
    }
    expect(await eventually(async () => (await accounts()).status === 200, 5000)).toBe(true);
  });

  it('Redis dies: 503s at once; restarted on its port, the gateway reconnects by itself and the connection is still there', async () => {
    const port = redis.port;
    await redis.stop();
    const started = Date.now();
    await expectStoreUnavailable(await accounts());
    expect(Date.now() - started).toBeLessThan(2500);
    expect(h.logLines.some((line) => line.includes('store.unavailable'))).toBe(true);
    redis = await startRedis({ port, persistDir: redisDir });
    expect(await eventually(async () => (await accounts()).status === 200, 5000)).toBe(true);
    expect(h.logLines.some((line) => line.includes('store.recovered'))).toBe(true);
    const view = (await (await h.call('/connections/sg-outage')).json()) as { status: string };
    expect(view.status).toBe('active');
  });
});
