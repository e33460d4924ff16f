/**
 * The sandbox banks and one in-process gateway for the vault tests, with what the e2e harness does not
 * expose: the store and transport options, the metrics registry, every log line, fault arming.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import { Agent, request } from 'undici';
import config from '../../hono.config.js';
import { createGateway, createJsonLogger, createNodeHandler } from '../../plugin/adapter/node/index.js';
import type { BankgateConfig, Gateway, GatewayOptions } from '../../plugin/index.js';
import { connectionStorageId } from '../../plugin/store/connection.js';
import { consentHeadlessly } from '../../sandbox/headless-consent.js';
import { startSandbox } from '../../sandbox/index.js';
import type { FaultRule } from '../../sandbox/faults.js';
import type { SandboxFile } from '../../sandbox/sandbox-file.js';
import type { StatsSnapshot } from '../../sandbox/stats.js';

export const DEV_KEY = 'vault-test-dev-key-0123456789';
/** Where the store keeps the dev caller's connection `connectionId` (connection ids are per caller). */
export const devConnection = (connectionId: string) => connectionStorageId('key:dev', connectionId);
export const STORE_KEY = Buffer.alloc(32, 7).toString('base64');

export interface VaultHarness {
  readonly dir: string;
  readonly sandbox: SandboxFile;
  readonly gateway: Gateway;
  readonly url: string;
  readonly logLines: string[];
  call(path: string, init?: { method?: string; headers?: Record<string, string>; body?: unknown }): Promise<Response>;
  connect(bank: 'seb' | 'sg', connectionId: string): Promise<void>;
  faults(rules: Partial<FaultRule>[]): Promise<void>;
  stats(): Promise<StatsSnapshot>;
  resetStats(): Promise<void>;
  close(): Promise<void>;
}

export async function startVaultHarness(options: { accessTtlSeconds?: number; store?: BankgateConfig['store']; gateway?: Partial<GatewayOptions>; env?: Record<string, string> } = {}): Promise<VaultHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'bankgate-vault-'));
  const sandbox = await startSandbox({ dir, accessTtlSeconds: options.accessTtlSeconds, log: () => {} });
  process.env.BANKGATE_SANDBOX_FILE = sandbox.filePath;
  const built = await (config as () => Promise<BankgateConfig> | BankgateConfig)();
  built.store = options.store ?? `file:${join(dir, 'tokens')}`;
  const logLines: string[] = [];
  let port = 0;
  const gateway = await createGateway(built, {
    publicUrl: () => `http://127.0.0.1:${port}`,
    log: createJsonLogger((line) => logLines.push(line)),
    env: { ...process.env, BANKGATE_DEV_KEY: DEV_KEY, BANKGATE_STORE_KEY: STORE_KEY, ...options.env },
    ...options.gateway,
  });
  // The Node fast path, as `npm start` serves the gateway.
  const server: Server = createServer(createNodeHandler(gateway));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const call: VaultHarness['call'] = (path, init = {}) =>
    fetch(url + path, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${DEV_KEY}`, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  return {
    dir,
    sandbox: sandbox.file,
    gateway,
    url,
    logLines,
    call,
    connect: (bank, connectionId) => connectThrough(url, sandbox.file, bank, connectionId),
    async faults(rules) {
      const response = await fetch(`${sandbox.file.controlUrl}/faults`, { method: 'POST', body: JSON.stringify(rules) });
      if (response.status !== 200) throw new Error(`faults: ${await response.text()}`);
    },
    stats: async () => (await (await fetch(sandbox.file.statsUrl)).json()) as StatsSnapshot,
    async resetStats() {
      await fetch(sandbox.file.resetUrl, { method: 'POST' });
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await gateway.close();
      await sandbox.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Creates a connection through the gateway at `url` and completes the consent as a sandbox PSU. The bank's
 * redirect goes to `callbackUrl` when given (another replica), else to the gateway that started it.
 */
export async function connectThrough(url: string, sandbox: SandboxFile, bank: 'seb' | 'sg', connectionId: string, callbackOrigin?: string): Promise<void> {
  const created = await fetch(`${url}/connections`, {
    method: 'POST',
    headers: { authorization: `Bearer ${DEV_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ bank, connectionId }),
  });
  const body = (await created.json()) as { authorizeUrl: string; detail?: string };
  if (created.status !== 201) throw new Error(`POST /connections: ${created.status} ${body.detail}`);
  const { callbackUrl } = await consentHeadlessly(body.authorizeUrl, { ca: readFileSync(sandbox.caFile, 'utf8'), psuId: sandbox.banks[bank].psuIds[0]! });
  const target = new URL(callbackUrl);
  if (callbackOrigin) {
    const origin = new URL(callbackOrigin);
    target.host = origin.host;
  }
  const callback = await fetch(target);
  const result = (await callback.json()) as { status: string; detail?: string };
  if (callback.status !== 200 || result.status !== 'active') throw new Error(`callback: ${callback.status} ${result.detail}`);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Revokes a token at SG's mTLS revocation endpoint, as the bank (or the PSU) could at any time. */
export async function revokeAtSg(sandbox: SandboxFile, token: string): Promise<void> {
  const bank = sandbox.banks.sg;
  const agent = new Agent({ connect: { ca: readFileSync(sandbox.caFile), cert: readFileSync(bank.mtls.certFile), key: readFileSync(bank.mtls.keyFile) } });
  try {
    const response = await request(bank.authorizationServer.revocationEndpoint!, {
      dispatcher: agent,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, client_id: bank.client.clientId }).toString(),
    });
    await response.body.dump();
    if (response.statusCode !== 200) throw new Error(`revocation at SG: ${response.statusCode}`);
  } finally {
    await agent.close();
  }
}
