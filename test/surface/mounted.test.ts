import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectHrefs } from './hal-hrefs.js';
import config from '../../hono.config.js';
import { createGateway, createNodeHandler } from '../../plugin/adapter/node/index.js';
import type { BankgateConfig, Gateway } from '../../plugin/index.js';
import { silentLogger } from '../../plugin/log.js';
import { consentHeadlessly } from '../../sandbox/headless-consent.js';
import { startSandbox, type RunningSandbox } from '../../sandbox/index.js';
import { problemOf } from '../e2e/harness.js';

const DEV_KEY = 'mounted-dev-key-0123456789abcdef';
const PSU_IP = '203.0.113.7';
const BANKS = ['seb', 'sg'] as const;

interface Served {
  readonly url: string;
  readonly server: Server;
}

async function serve(listener: Parameters<typeof createServer>[1]): Promise<Served> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/**
 * bankgate mounted in a host Hono app under `/banks`, as a team mounts it in its own gateway: the host keeps its
 * routes, middleware and 404s; everything bankgate answers and hands out is under the prefix. Real sockets, the
 * sandbox banks, the project's hono.config.ts.
 */
describe('mounted under /banks in a host app', () => {
  let dir: string;
  let sandbox: RunningSandbox;
  let gateway: Gateway;
  let host: Served;
  let caPem: string;
  const hostLog: string[] = [];
  const previousRedirects = process.env.SANDBOX_REDIRECT_URIS;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bankgate-mounted-'));
    // The redirect URI the banks see includes the prefix: registered as such (loopback: any port).
    process.env.SANDBOX_REDIRECT_URIS = BANKS.map((bank) => `http://127.0.0.1/banks/callback/${bank}`).join(',');
    sandbox = await startSandbox({ dir, log: () => {} });
    process.env.BANKGATE_SANDBOX_FILE = sandbox.filePath;
    caPem = readFileSync(sandbox.file.caFile, 'utf8');
    const built = await (config as () => Promise<BankgateConfig> | BankgateConfig)();
    built.store = 'memory';
    let port = 0;
    gateway = await createGateway(built, {
      publicUrl: () => `http://127.0.0.1:${port}`,
      log: silentLogger,
      env: { ...process.env, BANKGATE_DEV_KEY: DEV_KEY },
      // The host's own session (a header here) names the caller; without one, bankgate's keys apply.
      hostCaller: (c) => {
        const user = c.req.header('x-host-session');
        return user ? { id: `staff-${user}`, allow: ['seb/*'] } : undefined;
      },
    });

    const app = new Hono();
    app.use('*', async (c, next) => {
      await next();
      hostLog.push(`${c.req.method} ${c.req.path} ${c.res.status}`);
    });
    app.use('*', cors({ origin: 'https://console.example' }));
    app.get('/', (c) => c.text('host home'));
    app.route('/banks', gateway.app);
    host = await serve(getRequestListener(app.fetch));
    port = Number(new URL(host.url).port);
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => host?.server.close(() => resolve()));
    await gateway?.close();
    await sandbox?.stop();
    if (previousRedirects === undefined) delete process.env.SANDBOX_REDIRECT_URIS;
    else process.env.SANDBOX_REDIRECT_URIS = previousRedirects;
    rmSync(dir, { recursive: true, force: true });
  });

  const call = (path: string, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}) =>
    fetch(host.url + path, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${DEV_KEY}`, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      redirect: 'manual',
    });

  async function connect(bank: (typeof BANKS)[number], connectionId: string, headers: Record<string, string> = {}) {
    const created = await call('/banks/connections', { method: 'POST', body: { bank, connectionId }, headers });
    const body = (await created.json()) as { authorizeUrl: string };
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/banks/connections/${connectionId}`);
    expect(new URL(body.authorizeUrl).searchParams.get('redirect_uri')).toBe(`${host.url}/banks/callback/${bank}`);
    const { callbackUrl } = await consentHeadlessly(body.authorizeUrl, { ca: caPem, psuId: sandbox.file.banks[bank].psuIds[0]! });
    expect(new URL(callbackUrl).pathname).toBe(`/banks/callback/${bank}`);
    const callback = await fetch(callbackUrl);
    expect(callback.status).toBe(200);
    expect(((await callback.json()) as { status: string }).status).toBe('active');
  }

  it('the host keeps its own routes, middleware and 404s', async () => {
    const home = await fetch(`${host.url}/`, { headers: { origin: 'https://console.example' } });
    expect(home.status).toBe(200);
    expect(await home.text()).toBe('host home');
    expect(home.headers.get('access-control-allow-origin')).toBe('https://console.example');
    // Outside the prefix, a bank path is not a bank route: the host's own 404, not bankgate's problem.
    const outside = await call('/seb/ais/accounts', { headers: { 'x-connection-id': 'm-seb', 'psu-ip-address': PSU_IP } });
    expect(outside.status).toBe(404);
    expect(outside.headers.get('content-type') ?? '').not.toContain('problem+json');
    // Under it, bankgate's problem, naming where the operations are listed.
    const inside = await call('/banks/seb/ais/not-an-operation');
    const problem = await problemOf(inside);
    expect(inside.status).toBe(404);
    expect(problem.code).toBe('route_not_found');
    expect(problem.detail).toContain('/banks/openapi.json');
    // The host's middleware saw the mounted requests too (its logger, its CORS).
    const preflight = await fetch(`${host.url}/banks/healthz`, { method: 'OPTIONS', headers: { origin: 'https://console.example', 'access-control-request-method': 'GET' } });
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://console.example');
    expect(hostLog).toContain('GET /banks/seb/ais/not-an-operation 404');
  });

  it('serves health, metrics, the document and the docs under the prefix', async () => {
    expect((await call('/banks/healthz')).status).toBe(200);
    expect((await call('/banks/metrics')).status).toBe(200);
    const document = (await (await call('/banks/openapi.json')).json()) as { paths: Record<string, unknown>; servers: Array<{ url: string }> };
    const paths = Object.keys(document.paths);
    expect(paths.length).toBeGreaterThan(10);
    expect(paths.every((path) => path.startsWith('/banks/'))).toBe(true);
    expect(paths).toEqual(expect.arrayContaining(['/banks/connections', '/banks/connections/{connectionId}', '/banks/seb/ais/accounts']));
    expect(document.servers[0]!.url).toBe(host.url);
    const docs = await call('/banks/docs');
    expect(docs.status).toBe(200);
    const page = await docs.text();
    expect(page).toContain('/banks/openapi/seb.json');
    expect(page).toContain('/banks/docs/scalar.js');
    const bankDocument = (await (await call('/banks/openapi/seb.json')).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(bankDocument.paths)).toEqual(expect.arrayContaining(['/banks/connections', '/banks/seb/ais/accounts']));
    expect((await call('/banks/docs/scalar.js')).status).toBe(200);
  });

  it('consents for both banks, serves their accounts, and every link it hands out is followed through the gateway', async () => {
    await connect('seb', 'm-seb');
    await connect('sg', 'm-sg');
    const headers = { seb: { 'x-connection-id': 'm-seb', 'psu-ip-address': PSU_IP }, sg: { 'x-connection-id': 'm-sg' } };
    const paths = { seb: '/banks/seb/ais/accounts', sg: '/banks/sg/aisp/accounts' };
    let followed = 0;
    for (const bank of BANKS) {
      const accounts = await call(paths[bank], { headers: headers[bank] });
      expect(accounts.status).toBe(200);
      const hrefs = collectHrefs(await accounts.json());
      expect(hrefs.length).toBeGreaterThan(0);
      for (const href of hrefs) {
        expect(href.startsWith(`/banks/${bank}/`), `${bank}: ${href}`).toBe(true);
        const followedAnswer = await call(href, { headers: headers[bank] });
        expect(followedAnswer.status, `${bank}: ${href}`).toBe(200);
        followed++;
      }
    }
    expect(followed).toBeGreaterThan(2);
    const metrics = await (await call('/banks/metrics')).text();
    expect(metrics).toMatch(/bankgate_bank_links_total\{bank="seb",outcome="rewritten"\} [1-9]/);
  });

  it('a host that authenticates its callers hands bankgate the caller; its connections are its own', async () => {
    const session = { 'x-host-session': 'alice', authorization: '' };
    await connect('seb', 'alice-seb', session);
    const mine = await call('/banks/seb/ais/accounts', { headers: { ...session, 'x-connection-id': 'alice-seb', 'psu-ip-address': PSU_IP } });
    expect(mine.status).toBe(200);
    // The dev key's caller is someone else: alice's connection does not exist for it.
    const other = await call('/banks/seb/ais/accounts', { headers: { 'x-connection-id': 'alice-seb', 'psu-ip-address': PSU_IP } });
    expect((await problemOf(other)).code).toBe('connection_not_found');
    // The host's permissions hold: alice may use seb only (`seb/*`).
    const denied = await call('/banks/connections', { method: 'POST', body: { bank: 'sg', connectionId: 'alice-sg' }, headers: session });
    expect(denied.status).toBe(403);
    // No host session and no key: bankgate's own 401.
    expect((await call('/banks/connections/alice-seb', { headers: { authorization: '' } })).status).toBe(401);
  });
});

describe('served on its own under a basePath (the Node fast path)', () => {
  it('answers bank calls, the consent API and the document under the prefix only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bankgate-basepath-'));
    const sandbox = await startSandbox({ dir, log: () => {} });
    process.env.BANKGATE_SANDBOX_FILE = sandbox.filePath;
    const built = await (config as () => Promise<BankgateConfig> | BankgateConfig)();
    built.store = 'memory';
    const gateway = await createGateway(built, { basePath: '/banks/', log: silentLogger, env: { ...process.env, BANKGATE_DEV_KEY: DEV_KEY } });
    const served = await serve(createNodeHandler(gateway));
    const auth = { authorization: `Bearer ${DEV_KEY}` };
    try {
      expect(gateway.basePath).toBe('/banks');
      const unconnected = await fetch(`${served.url}/banks/seb/ais/accounts`, { headers: { ...auth, 'x-connection-id': 'none', 'psu-ip-address': PSU_IP } });
      expect((await problemOf(unconnected)).code).toBe('connection_not_found');
      expect((await fetch(`${served.url}/seb/ais/accounts`, { headers: { ...auth, 'x-connection-id': 'none' } })).status).toBe(404);
      const document = (await (await fetch(`${served.url}/banks/openapi.json`)).json()) as { paths: Record<string, unknown> };
      expect(Object.keys(document.paths)).toContain('/banks/seb/ais/accounts');
      const created = await fetch(`${served.url}/banks/connections`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ bank: 'seb', connectionId: 'bp-seb' }) });
      expect(created.status).toBe(201);
      expect(created.headers.get('location')).toBe('/banks/connections/bp-seb');
    } finally {
      await new Promise<void>((resolve) => served.server.close(() => resolve()));
      await gateway.close();
      await sandbox.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a basePath that is not a path prefix, naming the option', async () => {
    await expect(createGateway({ banks: {} } as never, { basePath: 'banks/../x', log: silentLogger })).rejects.toMatchObject({ code: 'config_invalid', message: expect.stringContaining('basePath') });
  });
});

