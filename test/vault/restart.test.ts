/**
 * Acceptance: a single-node gateway on the DEFAULT store (no BANKGATE_STORE, no key: file:./.bankgate/tokens
 * with a generated key) keeps every connection usable across restarts, `kill -9` included. Real child
 * processes in their own working directory, in front of the sandbox banks (2 s tokens, SG rotating).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyRing, parseStoreKey } from '../../plugin/store/key-ring.js';
import { openFileRecord, type FileRecord } from '../../plugin/adapter/node/store/file-store.js';
import { startSandbox, type RunningSandbox } from '../../sandbox/index.js';
import type { StatsSnapshot } from '../../sandbox/stats.js';
import { startGatewayProcess, type GatewayProcess } from './gateway-process.js';
import { freePort } from './redis-server.js';
import { connectThrough, DEV_KEY, sleep } from './vault-harness.js';

describe('restart of a single-node gateway on the default file store', () => {
  let cwd: string;
  let sandbox: RunningSandbox;
  let gateway: GatewayProcess;
  let port: number;
  const allLines: string[] = [];
  const env = () => ({ BANKGATE_DEV_KEY: DEV_KEY, BANKGATE_SANDBOX_FILE: sandbox.filePath });
  const start = async () => {
    gateway = await startGatewayProcess({ env: env(), cwd, port });
    return gateway;
  };
  const stop = async (signal: NodeJS.Signals) => {
    await gateway.kill(signal);
    allLines.push(...gateway.lines);
  };
  const call = (path: string, connectionId: string) =>
    fetch(gateway.url + path, { headers: { authorization: `Bearer ${DEV_KEY}`, 'x-connection-id': connectionId, 'psu-ip-address': '203.0.113.7' } });
  const calls = async () => [(await call('/seb/ais/accounts', 'seb-1')).status, (await call('/sg/aisp/accounts', 'sg-1')).status];
  const stats = async () => (await (await fetch(sandbox.file.statsUrl)).json()) as StatsSnapshot;

  beforeAll(async () => {
    cwd = mkdtempSync(join(tmpdir(), 'bankgate-restart-'));
    sandbox = await startSandbox({ dir: join(cwd, 'sandbox'), accessTtlSeconds: 2 });
    port = await freePort();
    await start();
    await connectThrough(gateway.url, sandbox.file, 'seb', 'seb-1');
    await connectThrough(gateway.url, sandbox.file, 'sg', 'sg-1');
  });
  afterAll(async () => {
    await gateway?.kill('SIGKILL');
    await sandbox?.stop();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('generated a store key into .bankgate/ (0600), loudly, and keeps tokens only sealed', async () => {
    const keyFile = join(cwd, '.bankgate', 'tokens.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(gateway.lines.some((line) => line.includes('store.key_generated') && line.includes('NO STORE ENCRYPTION KEY'))).toBe(true);
    expect(await calls()).toEqual([200, 200]);
  });

  it('kill -9 right after a refresh, then restart: every connection still works (the rotated SG token was persisted)', async () => {
    await sleep(2300);
    expect(await calls()).toEqual([200, 200]);
    const before = await stats();
    expect(before.banks.sg.tokenRequests.refresh_token).toBeGreaterThanOrEqual(1);
    await stop('SIGKILL');
    await start();
    expect(gateway.lines.some((line) => line.includes('store.key_generated'))).toBe(false);
    expect(await calls()).toEqual([200, 200]);
    // Once more after the next expiry: the refresh token stored before the kill is the live one.
    await sleep(2300);
    expect(await calls()).toEqual([200, 200]);
    const after = await stats();
    expect(after.banks.sg.tokenErrors).toEqual({});
    expect(after.banks.seb.tokenErrors).toEqual({});
  });

  it('a graceful restart (SIGTERM) keeps them too', async () => {
    await stop('SIGTERM');
    await start();
    expect(await calls()).toEqual([200, 200]);
    const status = (await (await fetch(`${gateway.url}/connections/sg-1`, { headers: { authorization: `Bearer ${DEV_KEY}` } })).json()) as { status: string };
    expect(status.status).toBe('active');
  });

  it('the store files hold no token in plaintext; no log line of any run carries one', async () => {
    const dir = join(cwd, '.bankgate', 'tokens');
    const keys = new KeyRing(await parseStoreKey(readFileSync(join(cwd, '.bankgate', 'tokens.key'), 'utf8'), 'key'));
    const files = readdirSync(dir).filter((f) => f.startsWith('c_'));
    expect(files).toHaveLength(2);
    const tokens: string[] = [];
    const raw: Buffer[] = [];
    for (const file of files) {
      const bytes = readFileSync(join(dir, file));
      expect(statSync(join(dir, file)).mode & 0o777).toBe(0o600);
      raw.push(bytes);
      const id = Buffer.from(file.slice(2, -5), 'base64url').toString();
      const { connection } = await openFileRecord(keys, id, JSON.parse(bytes.toString()) as FileRecord);
      tokens.push(connection.tokens!.accessToken, connection.tokens!.refreshToken!);
    }
    const logs = [...allLines, ...gateway.lines].join('\n');
    for (const token of tokens) {
      expect(raw.some((bytes) => bytes.includes(token))).toBe(false);
      expect(logs.includes(token)).toBe(false);
    }
    expect(logs.includes(readFileSync(join(cwd, '.bankgate', 'tokens.key'), 'utf8').trim())).toBe(false);
  });
});
