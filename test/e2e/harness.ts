import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import config from '../../hono.config.js';
import { createGateway, createJsonLogger, createNodeHandler } from '../../plugin/adapter/node/index.js';
import type { BankgateConfig, Gateway, GatewayOptions } from '../../plugin/index.js';
import { connectionStorageId } from '../../plugin/store/connection.js';
import type { Logger } from '../../plugin/log.js';
import { startSandbox } from '../../sandbox/index.js';
import type { SandboxFile } from '../../sandbox/sandbox-file.js';
import { consentHeadlessly } from '../../sandbox/headless-consent.js';

export const DEV_KEY = 'test-dev-key-0123456789abcdef';
/** Where the store keeps the dev caller's connection `connectionId` (connection ids are per caller). */
export const devConnection = (connectionId: string) => connectionStorageId('key:dev', connectionId);

export interface Harness {
  readonly sandbox: SandboxFile;
  readonly gateway: Gateway;
  readonly url: string;
  /** A call to the gateway with the dev key (unless `authorization` is given). */
  call(path: string, init?: { method?: string; headers?: Record<string, string>; body?: unknown }): Promise<Response>;
  /** Creates a connection and completes the consent as a sandbox PSU. */
  connect(bank: 'seb' | 'sg', connectionId: string): Promise<void>;
  stats(): Promise<SandboxStats>;
  resetStats(): Promise<void>;
  bankRequests(bank: 'seb' | 'sg'): Promise<SandboxRequestRecord[]>;
  /** Every log line the gateway wrote. */
  readonly logLines: string[];
  close(): Promise<void>;
}

export interface SandboxStats {
  banks: Record<'seb' | 'sg', { tokenRequests: Record<string, number>; tokenErrors: Record<string, number>; resourceCalls: Record<string, number> }>;
}

export interface SandboxRequestRecord {
  bank: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  clientCertThumbprint?: string;
  status: number;
}

/**
 * The sandbox banks and the gateway configured by the project's own hono.config.ts, both on loopback
 * sockets. `adjust` edits the config before the gateway validates it (e.g. to present a wrong certificate).
 */
export async function startHarness(options: { accessTtlSeconds?: number; adjust?: (config: BankgateConfig, sandbox: SandboxFile) => void; log?: Logger; gateway?: Partial<GatewayOptions> } = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'bankgate-e2e-'));
  const sandbox = await startSandbox({ dir, accessTtlSeconds: options.accessTtlSeconds, log: () => {} });
  process.env.BANKGATE_SANDBOX_FILE = sandbox.filePath;
  const built = await (config as () => Promise<BankgateConfig> | BankgateConfig)();
  options.adjust?.(built, sandbox.file);
  // The persistent default store, in this run's own directory (its key is generated there too).
  built.store ??= `file:${join(dir, 'tokens')}`;

  let port = 0;
  // Every harness captures its gateway's log, and on close proves no secret reached it (see assertLogsClean).
  const logLines: string[] = [];
  const capture = createJsonLogger((line) => logLines.push(line));
  const log: Logger = options.log ? fanOut(options.log, capture) : capture;
  const gateway = await createGateway(built, {
    publicUrl: () => `http://127.0.0.1:${port}`,
    log,
    env: { ...process.env, BANKGATE_DEV_KEY: DEV_KEY },
    ...options.gateway,
  });
  // Served as `npm start` serves it: the Node fast path for bank calls, the Hono app for the rest.
  // (test/e2e/generated-sdk.test.ts and test/e2e/app-fetch.test.ts drive `gateway.app.fetch` itself.)
  const server: Server = createServer(createNodeHandler(gateway));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const caPem = readFileSync(sandbox.file.caFile, 'utf8');

  const call: Harness['call'] = (path, init = {}) =>
    fetch(url + path, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${DEV_KEY}`, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
      body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
    });

  return {
    sandbox: sandbox.file,
    gateway,
    url,
    call,
    async connect(bank, connectionId) {
      const created = await call('/connections', { method: 'POST', body: { bank, connectionId } });
      const body = (await created.json()) as { authorizeUrl: string; detail?: string };
      if (created.status !== 201) throw new Error(`POST /connections: ${created.status} ${body.detail}`);
      const { callbackUrl } = await consentHeadlessly(body.authorizeUrl, { ca: caPem, psuId: sandbox.file.banks[bank].psuIds[0]! });
      const callback = await fetch(callbackUrl);
      const result = (await callback.json()) as { status: string; detail?: string };
      if (callback.status !== 200 || result.status !== 'active') throw new Error(`callback: ${callback.status} ${result.detail}`);
    },
    async stats() {
      return (await (await fetch(sandbox.file.statsUrl)).json()) as SandboxStats;
    },
    async resetStats() {
      await fetch(sandbox.file.resetUrl, { method: 'POST' });
    },
    async bankRequests(bank) {
      return (await (await fetch(`${sandbox.file.controlUrl}/requests?bank=${bank}`)).json()) as SandboxRequestRecord[];
    },
    logLines,
    async close() {
      await assertLogsClean(logLines, sandbox.file, await (await fetch(`${sandbox.file.controlUrl}/requests`)).json() as SandboxRequestRecord[]);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await gateway.close();
      await sandbox.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Reads a problem+json body and checks its media type. */
export async function problemOf(response: Response): Promise<{ code: string; detail: string; status: number; bank?: string; [key: string]: unknown }> {
  const type = response.headers.get('content-type') ?? '';
  if (!type.startsWith('application/problem+json')) throw new Error(`expected problem+json, got ${type}: ${await response.text()}`);
  return (await response.json()) as { code: string; detail: string; status: number };
}

function fanOut(...loggers: Logger[]): Logger {
  return {
    info: (event, fields) => loggers.forEach((l) => l.info(event, fields)),
    warn: (event, fields) => loggers.forEach((l) => l.warn(event, fields)),
    error: (event, fields) => loggers.forEach((l) => l.error(event, fields)),
  };
}

/** PSU data the tests send: it must never be logged. */
export const PSU_IP = '203.0.113.7';

/**
 * The log of a whole harness run holds no token the bank received, no client secret, no private key and no
 * PSU identifier (sandbox PSU ids, the PSU's IP address).
 */
async function assertLogsClean(lines: readonly string[], sandbox: SandboxFile, bankRequests: SandboxRequestRecord[]): Promise<void> {
  const secrets = new Set<string>();
  for (const request of bankRequests) {
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (bearer) secrets.add(bearer);
    if (request.headers.signature) secrets.add(/signature="([^"]+)"/.exec(request.headers.signature)?.[1] ?? request.headers.signature);
  }
  for (const bank of Object.values(sandbox.banks)) {
    if (bank.client.clientSecret) secrets.add(bank.client.clientSecret);
    for (const psu of bank.psuIds) secrets.add(psu);
  }
  secrets.add(PSU_IP);
  const text = lines.join('\n');
  const leaked = [...secrets].filter((secret) => secret.length >= 6 && text.includes(secret));
  const pem = /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text);
  if (leaked.length > 0 || pem) {
    throw new Error(`the gateway log leaked ${leaked.length} secret value(s)${pem ? ' and a private key' : ''}: ${leaked.map((s) => s.slice(0, 4) + '…').join(', ')}`);
  }
}
