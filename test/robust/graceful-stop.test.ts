/**
 * Issue 15, brief s21 item 1: a graceful stop (SIGTERM, what a rolling deploy sends) loses nothing. A gateway
 * process on real Redis in front of the SG-like sandbox (refresh tokens rotated on every use): the sandbox holds
 * a refresh at its token endpoint (`delay` fault), the gateway gets SIGTERM while the refresh is at the bank. The
 * gateway must let that refresh finish and store its set before it closes its transports and its store: after a
 * restart the bank saw exactly one refresh (its ledger), nothing refused, the connection is `active` and the next
 * call answers 200. No journal here: the drain alone must keep the set. On Redis and on the file store.
 * Ordering is by protocol (the fault rule taken means the refresh is at the bank), not by sleeps; tokens are
 * expired by moving the gateway's clock (gateway-entry.ts, SIGUSR2), so the restarted process (its clock real
 * again) holds a fresh token and the bank's ledger counts exactly the refresh the stop met.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox } from '../../sandbox/index.js';
import type { LedgerSnapshot } from '../../sandbox/sg/refresh-ledger.js';
import { startGatewayProcess, type GatewayProcess } from '../vault/gateway-process.js';
import { freePort, startRedis, type RedisServer } from '../vault/redis-server.js';
import { connectThrough, DEV_KEY, sleep, STORE_KEY } from '../vault/vault-harness.js';

describe.each(['redis', 'file'] as const)('a graceful stop (SIGTERM) in the middle of a refresh at the bank (%s store)', (storeKind) => {
  let dir: string;
  let sandbox: RunningSandbox;
  let redis: RedisServer;
  let gateway: GatewayProcess;
  let port: number;
  const clockFile = () => join(dir, 'clock-offset-ms');
  const start = async () => {
    const store = storeKind === 'redis' ? redis.url : `file:${join(dir, 'tokens')}`;
    gateway = await startGatewayProcess({ env: { BANKGATE_STORE: store, BANKGATE_STORE_KEY: STORE_KEY, BANKGATE_DEV_KEY: DEV_KEY, BANKGATE_SANDBOX_FILE: sandbox.filePath, BANKGATE_TEST_CLOCK_FILE: clockFile() }, port, cwd: join(dir, 'cwd') });
  };
  /** Moves the gateway's clock past the sandbox's 3600 s access tokens; resolves once it moved. */
  async function expireTokens(): Promise<void> {
    writeFileSync(clockFile(), '3601000');
    process.kill(gateway.pid, 'SIGUSR2');
    for (let i = 0; !gateway.lines.includes('clock 3601000'); i++) {
      if (i > 500) throw new Error('the gateway did not move its clock');
      await sleep(10);
    }
  }
  const accounts = () => fetch(`${gateway.url}/sg/aisp/accounts`, { headers: { authorization: `Bearer ${DEV_KEY}`, 'x-connection-id': 'stop-1' } });
  const control = (path: string, init?: RequestInit) => fetch(`${sandbox.file.controlUrl}${path}`, init);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bankgate-graceful-'));
    mkdirSync(join(dir, 'cwd'));
    sandbox = await startSandbox({ dir, accessTtlSeconds: 3600, log: () => {} });
    redis = await startRedis();
    port = await freePort();
    await start();
    await connectThrough(gateway.url, sandbox.file, 'sg', 'stop-1');
  }, 60_000);
  afterAll(async () => {
    await gateway?.kill('SIGKILL');
    await redis?.stop();
    await sandbox?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the refresh finishes and is stored before the process exits: one refresh at the bank, the connection active, the next call 200', async () => {
    expect((await accounts()).status).toBe(200);
    await expireTokens(); // the next call refreshes
    await fetch(sandbox.file.resetUrl, { method: 'POST' });
    await control('/faults', { method: 'POST', body: JSON.stringify([{ bank: 'sg', target: 'token', action: 'delay', delayMs: 1500, grantType: 'refresh_token' }]) });
    const pending = accounts().then(
      (response) => response.status,
      () => 'no answer',
    );
    // The rule taken: the refresh is at the bank, held 1.5 s.
    for (let i = 0; ((await (await control('/faults')).json()) as unknown[]).length > 0; i++) {
      if (i > 500) throw new Error('the refresh never reached the bank');
      await sleep(10);
    }
    await gateway.kill('SIGTERM');
    const drained = gateway.lines.some((line) => line.includes('"gateway.drained"'));

    await start();
    const connection = (await (await fetch(`${gateway.url}/connections/stop-1`, { headers: { authorization: `Bearer ${DEV_KEY}` } })).json()) as { status: string };
    const next = (await accounts()).status;
    const ledger = (await (await control('/refresh-ledger')).json()) as LedgerSnapshot;
    // All at once, so that a failure shows the whole outcome.
    expect({
      // The call in flight is answered: the process drained before it closed.
      inFlight: await pending,
      drained,
      connection: connection.status,
      next,
      refreshesAtTheBank: ledger.issuances.filter((issuance) => issuance.grantType === 'refresh_token').map((issuance) => issuance.fate),
      refused: ledger.refusals.map((refusal) => refusal.kind),
    }).toEqual({ inFlight: 200, drained: true, connection: 'active', next: 200, refreshesAtTheBank: ['written'], refused: [] });
  }, 60_000);
});
