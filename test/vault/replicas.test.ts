/**
 * Acceptance (issue 3): three gateway PROCESSES sharing a real Redis, in front of the SG-like sandbox
 * (rotating refresh tokens, 4 s access tokens).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyRing, parseStoreKey } from '../../plugin/store/key-ring.js';
import { openConnection } from '../../plugin/store/sealed-connection.js';
import { startSandbox, type RunningSandbox } from '../../sandbox/index.js';
import type { StatsSnapshot } from '../../sandbox/stats.js';
import { startGatewayProcess, type GatewayProcess } from './gateway-process.js';
import { startRedis, type RedisServer } from './redis-server.js';
import { connectThrough, DEV_KEY, devConnection, sleep, STORE_KEY } from './vault-harness.js';

const LOCK_TTL_SECONDS = 3;
// Tokens live an hour at the bank; the replicas' clock is moved past their expiry (`expireTokens`) instead of
// sleeping through them. A burst then lasts a moment of a fresh token's hour, however loaded the machine:
// one refresh per expiry is what the protocol guarantees, not what a fast machine happens to show.
const ACCESS_TTL_SECONDS = 3600;
const AFTER_EXPIRY_MS = ACCESS_TTL_SECONDS * 1000 + 1000;

describe('three gateway processes sharing Redis, SG sandbox, tokens expired by moving their clock', () => {
  let dir: string;
  let sandbox: RunningSandbox;
  let redis: RedisServer;
  let replicas: GatewayProcess[] = [];
  const seenTokens = new Set<string>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bankgate-replicas-'));
    [sandbox, redis] = await Promise.all([startSandbox({ dir, accessTtlSeconds: ACCESS_TTL_SECONDS }), startRedis()]);
    const env = {
      BANKGATE_STORE: redis.url,
      BANKGATE_STORE_KEY: STORE_KEY,
      BANKGATE_DEV_KEY: DEV_KEY,
      BANKGATE_SANDBOX_FILE: sandbox.filePath,
      BANKGATE_TEST_LOCK_TTL_SECONDS: String(LOCK_TTL_SECONDS),
      BANKGATE_TEST_CLOCK_FILE: clockFile(),
    };
    replicas = await Promise.all([0, 1, 2].map(() => startGatewayProcess({ env })));
  });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.kill('SIGKILL')));
    await redis?.stop();
    await sandbox?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const clockFile = () => join(dir, 'clock-offset-ms');
  let clockOffsetMs = 0;
  /** Moves every live replica's clock past the expiry of every token it holds; resolves once each moved. */
  async function expireTokens(): Promise<void> {
    clockOffsetMs += AFTER_EXPIRY_MS;
    writeFileSync(clockFile(), String(clockOffsetMs));
    await Promise.all(
      replicas.map(async (replica) => {
        process.kill(replica.pid, 'SIGUSR2');
        const deadline = Date.now() + 10_000;
        while (!replica.lines.includes(`clock ${clockOffsetMs}`)) {
          if (Date.now() > deadline) throw new Error(`replica ${replica.pid} did not move its clock`);
          await sleep(10);
        }
      }),
    );
  }

  const call = (replica: GatewayProcess, path: string, connectionId: string, method = 'GET') =>
    fetch(replica.url + path, { method, headers: { authorization: `Bearer ${DEV_KEY}`, 'x-connection-id': connectionId } });
  const accounts = (replica: GatewayProcess, connectionId: string) => call(replica, '/sg/aisp/accounts', connectionId);
  const stats = async () => (await (await fetch(sandbox.file.statsUrl)).json()) as StatsSnapshot;
  const resetStats = () => fetch(sandbox.file.resetUrl, { method: 'POST' });
  const faults = (rules: unknown[]) => fetch(`${sandbox.file.controlUrl}/faults`, { method: 'POST', body: JSON.stringify(rules) });
  /** The stored connection, decrypted with the shared key (to learn its tokens, for the leak checks). */
  const stored = async (id: string) => {
    const [rev, data] = await redis.client().hmget(`bankgate:conn:${devConnection(id)}`, 'rev', 'data');
    if (!rev || !data) return undefined;
    const connection = await openConnection(new KeyRing(await parseStoreKey(STORE_KEY, 'key')), devConnection(id), { revision: Number(rev), sealed: data });
    if (connection.tokens) seenTokens.add(connection.tokens.accessToken).add(connection.tokens.refreshToken!);
    return connection;
  };

  it('a consent started on one replica completes on another (the pending state is in Redis)', async () => {
    await connectThrough(replicas[0]!.url, sandbox.file, 'sg', 'storm', replicas[1]!.url);
    await connectThrough(replicas[2]!.url, sandbox.file, 'sg', 'lock-holder', replicas[0]!.url);
    for (const replica of replicas) expect((await accounts(replica, 'storm')).status).toBe(200);
    expect((await stored('storm'))?.status).toBe('active');
  });

  it('300 concurrent calls spread over the three replicas after expiry: all succeed, exactly one refresh at the bank', async () => {
    // Warm-up while the token is valid: JIT and the replicas' mTLS pools to the bank.
    expect((await Promise.all(Array.from({ length: 300 }, (_, i) => accounts(replicas[i % 3]!, 'storm')))).every((r) => r.status === 200)).toBe(true);
    await expireTokens();
    await resetStats();
    const responses = await Promise.all(Array.from({ length: 300 }, (_, i) => accounts(replicas[i % 3]!, 'storm')));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    const after = await stats();
    expect(after.banks.sg.tokenRequests.refresh_token).toBe(1);
    expect(after.banks.sg.tokenErrors).toEqual({});
    expect(after.banks.sg.resourceCalls['200']).toBe(300);
    expect((await stored('storm'))?.status).toBe('active');
  });

  it('kill -9 of the replica holding the lock mid-refresh: the others serve again within the lock TTL; the consent survives', async () => {
    await expireTokens();
    await resetStats();
    // The bank holds the holder's refresh request; the holder dies before an answer.
    await faults([{ bank: 'sg', target: 'token', action: 'delay', grantType: 'refresh_token', delayMs: 20_000 }]);
    const [holder, ...others] = replicas as [GatewayProcess, GatewayProcess, GatewayProcess];
    const pending = accounts(holder, 'lock-holder').catch(() => undefined);
    const client = redis.client();
    const lockKey = `bankgate:lock:refresh:${devConnection('lock-holder')}`;
    const deadline = Date.now() + 5000;
    let owner: string | null = null;
    while (!(owner = await client.get(lockKey)) && Date.now() < deadline) await sleep(10);
    expect(owner).toContain(`:${holder.pid}:`);
    // The holder's request is at the bank (it took the delay rule) before the holder dies: otherwise a
    // survivor's refresh would meet the delay instead, and wait out its own attempt timeout.
    let armed: unknown[] = [1];
    while (armed.length > 0 && Date.now() < deadline) {
      armed = (await (await fetch(`${sandbox.file.controlUrl}/faults`)).json()) as unknown[];
      if (armed.length > 0) await sleep(10);
    }
    expect(armed).toEqual([]);
    const killedAt = Date.now();
    await holder.kill('SIGKILL');
    void pending;

    const results = await Promise.all(others.flatMap((replica) => [accounts(replica, 'lock-holder'), accounts(replica, 'lock-holder')]));
    const waited = Date.now() - killedAt;
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(waited).toBeLessThan(LOCK_TTL_SECONDS * 1000 + 1500);
    // What happens to the consent: the bank never processed the dead replica's request (its client was
    // gone when the delay ended), so the refresh token was not rotated; one survivor refreshed with it,
    // once, and the connection is active. No invalid_grant, no reconsent.
    const after = await stats();
    expect(after.banks.sg.tokenRequests.refresh_token).toBe(1);
    expect(after.banks.sg.tokenErrors).toEqual({});
    expect((await stored('lock-holder'))?.status).toBe('active');
    await sleep(200);
    expect(after.banks.sg.tokenRequests.refresh_token).toBe((await stats()).banks.sg.tokenRequests.refresh_token);
    replicas = others;
  });

  it('DELETE /connections/{id} on one replica revokes at the bank and the connection is gone on every replica', async () => {
    const [a, b] = replicas as [GatewayProcess, GatewayProcess];
    const deleted = await fetch(`${a.url}/connections/storm`, { method: 'DELETE', headers: { authorization: `Bearer ${DEV_KEY}` } });
    expect(deleted.status).toBe(200);
    expect(((await deleted.json()) as { revocation: string }).revocation).toBe('revoked');
    for (const replica of replicas) {
      expect((await fetch(`${replica.url}/connections/storm`, { headers: { authorization: `Bearer ${DEV_KEY}` } })).status).toBe(404);
      expect((await accounts(replica, 'storm')).status).toBe(404);
    }
    expect(await redis.client().exists(`bankgate:conn:${devConnection('storm')}`)).toBe(0);
    expect((await accounts(b, 'lock-holder')).status).toBe(200);
  });

  it('Redis holds no token in plaintext, and no log line of any replica carries one', async () => {
    await stored('lock-holder');
    const requests = (await (await fetch(`${sandbox.file.controlUrl}/requests?bank=sg`)).json()) as Array<{ headers: Record<string, string> }>;
    for (const request of requests) {
      const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
      if (bearer) seenTokens.add(bearer);
    }
    expect(seenTokens.size).toBeGreaterThan(3);
    const client = redis.client();
    const raw: string[] = [];
    for (const key of await client.keys('*')) {
      const type = await client.type(key);
      raw.push(key, ...(type === 'hash' ? Object.values(await client.hgetall(key)) : type === 'string' ? [(await client.get(key)) ?? ''] : []));
    }
    const logs = replicas.flatMap((r) => r.lines).join('\n');
    expect(logs).toContain('token.refreshed');
    for (const token of seenTokens) {
      expect(raw.filter((value) => value.includes(token))).toEqual([]);
      expect(logs.includes(token)).toBe(false);
    }
    expect(logs).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----/);
    expect(logs.includes(STORE_KEY)).toBe(false);
  });
});
