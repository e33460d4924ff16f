import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import config from '../../hono.config.js';
import { createGateway, type BankgateConfig, type Gateway } from '../../plugin/index.js';
import { silentLogger, type Logger } from '../../plugin/log.js';
import { startSandbox } from '../../sandbox/index.js';
import type { SandboxFile } from '../../sandbox/sandbox-file.js';
import { consentHeadlessly } from '../../sandbox/headless-consent.js';

export const DEV_KEY = 'test-dev-key-0123456789abcdef';

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
export async function startHarness(options: { accessTtlSeconds?: number; adjust?: (config: BankgateConfig, sandbox: SandboxFile) => void; log?: Logger } = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'bankgate-e2e-'));
  const sandbox = await startSandbox({ dir, accessTtlSeconds: options.accessTtlSeconds, log: () => {} });
  process.env.BANKGATE_SANDBOX_FILE = sandbox.filePath;
  const built = await (config as () => Promise<BankgateConfig> | BankgateConfig)();
  options.adjust?.(built, sandbox.file);

  let port = 0;
  const gateway = await createGateway(built, {
    publicUrl: () => `http://127.0.0.1:${port}`,
    log: options.log ?? silentLogger,
    env: { ...process.env, BANKGATE_DEV_KEY: DEV_KEY },
  });
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: gateway.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
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
    async close() {
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
