/**
 * bankgate/workers INSIDE workerd (Miniflare from vitest; `miniflare` and its `workerd` are devDependencies),
 * in front of the sandbox banks over real mTLS: the QWAC bindings are the offline stand-in for
 * `mtls_certificates` (a service binding with workerd `tlsOptions`), the token store is the Durable Object
 * store. The same scenarios as Deno and Bun, and the Worker bundle pulls no node:*, undici, ioredis or pino.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox } from '../../sandbox/index.js';
import type { StatsSnapshot } from '../../sandbox/stats.js';
import { startWorkersGateway, type WorkersGateway } from '../../scripts/workers/workers-gateway.js';
import { freePort } from '../vault/redis-server.js';
import { connectThrough, DEV_KEY, sleep, STORE_KEY } from '../vault/vault-harness.js';
import { ROOT } from './runtime-process.js';
import { STORE_CONTRACT } from './store-contract-v2.js';

const ACCESS_TTL_SECONDS = 8;
const AFTER_EXPIRY_MS = ACCESS_TTL_SECONDS * 1000 + 300;

const thumbprintOf = (certFile: string) => createHash('sha256').update(new X509Certificate(readFileSync(certFile)).raw).digest('base64url');

describe('bankgate inside workerd (Miniflare), Durable Object store, in front of the sandbox banks (real mTLS)', () => {
  let dir: string;
  let sandbox: RunningSandbox;
  let gateway: WorkersGateway;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bankgate-workers-'));
    sandbox = await startSandbox({ dir, accessTtlSeconds: ACCESS_TTL_SECONDS });
    gateway = await startWorkersGateway({ sandbox: sandbox.file, port: await freePort(), devKey: DEV_KEY, storeKey: STORE_KEY });
  });
  afterAll(async () => {
    await gateway?.dispose();
    await sandbox?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const call = (path: string, connectionId: string, base = gateway.url) =>
    fetch(base + path, { headers: { authorization: `Bearer ${DEV_KEY}`, 'x-connection-id': connectionId, 'psu-ip-address': '203.0.113.7' } });
  const stats = async () => (await (await fetch(sandbox.file.statsUrl)).json()) as StatsSnapshot;
  const bankRequests = async (bank: string) => (await (await fetch(`${sandbox.file.controlUrl}/requests?bank=${bank}`)).json()) as Array<{ path: string; status: number; clientCertThumbprint?: string; headers: Record<string, string> }>;

  it('consent for both banks; the accounts of both answer 200, and each bank saw the bound QWAC on those calls', async () => {
    await connectThrough(gateway.url, sandbox.file, 'sg', 'wk-sg');
    await connectThrough(gateway.url, sandbox.file, 'seb', 'wk-seb');
    const [sg, seb] = await Promise.all([call('/sg/aisp/accounts', 'wk-sg'), call('/seb/ais/accounts', 'wk-seb')]);
    expect([sg.status, seb.status]).toEqual([200, 200]);
    for (const bank of ['sg', 'seb'] as const) {
      const seen = (await bankRequests(bank)).filter((r) => r.path.endsWith('/accounts')).at(-1)!;
      expect(seen.status).toBe(200);
      expect(seen.clientCertThumbprint).toBe(thumbprintOf(sandbox.file.banks[bank].mtls.certFile));
    }
    expect((await bankRequests('sg')).at(-1)!.headers.signature).toMatch(/rsa-sha256/);
  });

  it('after expiry: 50 concurrent calls on the expired, rotating SG token make exactly one refresh (Durable Object store); SEB refreshed too', async () => {
    await sleep(AFTER_EXPIRY_MS);
    await fetch(sandbox.file.resetUrl, { method: 'POST' });
    const responses = await Promise.all(Array.from({ length: 50 }, () => call('/sg/aisp/accounts', 'wk-sg')));
    expect(responses.map((r) => r.status).filter((s) => s !== 200)).toEqual([]);
    expect((await call('/seb/ais/accounts', 'wk-seb')).status).toBe(200);
    const after = await stats();
    expect(after.banks.sg.tokenRequests.refresh_token).toBe(1);
    expect(after.banks.sg.tokenErrors).toEqual({});
    expect(after.banks.seb.tokenRequests.refresh_token).toBe(1);
  });

  it('a signed SG payment request is accepted, and the same request with one byte changed after workerd signed it is refused', async () => {
    const probe = await startWorkersGateway({ sandbox: sandbox.file, port: await freePort(), devKey: DEV_KEY, storeKey: STORE_KEY, store: 'memory', entry: 'test/runtime/probe/workers-signing-probe.ts' });
    try {
      const answer = (await (await fetch(probe.url)).json()) as { runtime: string; asSigned: { status: number }; tampered: { status: number; body: unknown } };
      expect(answer.runtime).toBe('workers');
      expect(answer.asSigned.status).toBe(201);
      expect(answer.tampered.status).toBe(401);
      expect(answer.tampered.body).toMatchObject({ error: 'invalid_signature' });
    } finally {
      await probe.dispose();
    }
  });

  it('a client certificate the bank does not trust gives 502 bank_tls_error naming the bank', async () => {
    const wrong = await startWorkersGateway({ sandbox: sandbox.file, port: await freePort(), devKey: DEV_KEY, storeKey: STORE_KEY, store: 'memory', qwac: { seb: sandbox.file.untrustedClientCert } });
    try {
      await connectThrough(wrong.url, sandbox.file, 'seb', 'wk-wrong');
      const response = await call('/seb/ais/accounts', 'wk-wrong', wrong.url);
      expect(response.status).toBe(502);
      const problem = (await response.json()) as { code: string; bank: string; detail: string };
      expect(problem.code).toBe('bank_tls_error');
      expect(problem.bank).toBe('seb');
    } finally {
      await wrong.dispose();
    }
  });

  it('the Durable Object store passes the ConnectionStore v2 contract inside workerd', async () => {
    const probe = await startWorkersGateway({ sandbox: sandbox.file, port: await freePort(), devKey: DEV_KEY, storeKey: STORE_KEY, entry: 'test/runtime/probe/workers-store-contract.ts' });
    try {
      const lines = (await (await fetch(probe.url)).json()) as string[];
      expect(lines.filter((line) => !line.startsWith('contract ok '))).toEqual([]);
      expect(lines).toHaveLength(STORE_CONTRACT.length);
    } finally {
      await probe.dispose();
    }
  });

  it('a QWAC given as PEM, or a binding the Worker lacks, refuses to start naming the path; never a call without the certificate', async () => {
    const { workersTransport } = await import('../../plugin/adapter/workers/transport.js');
    const { ProblemCollector } = await import('../../plugin/config/secret-ref.js');
    const { silentLogger } = await import('../../plugin/log.js');
    const { MetricsRegistry } = await import('../../plugin/observability/metrics.js');
    const problems = new ProblemCollector({ name: 'workers', env: {} });
    const context = { metrics: new MetricsRegistry(), log: silentLogger, problems, now: Date.now };
    const settings = { timeouts: { connectMs: 1000, headersMs: 1000, bodyMs: 1000 }, maxResponseBytes: 1 << 20 } as never;
    const create = workersTransport({ QWAC_SG: { fetch: () => Promise.resolve(new Response('')) } });
    expect(await create({ bank: 'sg', at: 'banks.sg.mtls', mtls: { kind: 'pem', cert: { value: 'x' }, key: { value: 'y' } } as never, settings, labels: { bank: 'sg' } }, context)).toBeUndefined();
    expect(await create({ bank: 'sg', at: 'banks.sg.mtls', mtls: { kind: 'binding', binding: 'QWAC_OTHER', warnDays: 30 }, settings, labels: { bank: 'sg' } }, context)).toBeUndefined();
    expect(problems.problems[0]).toMatch(/^banks\.sg\.mtls\.cert: the workers runtime cannot present a client certificate it is given/);
    expect(problems.problems[1]).toMatch(/^banks\.sg\.mtls\.binding: QWAC_OTHER is not bound in this Worker/);
  });

  it('the Worker bundle (bankgate/workers and its entry) pulls no node:*, undici, ioredis or pino', async () => {
    const forbidden: string[] = [];
    const result = await build({
      entryPoints: [join(ROOT, 'scripts/workers/sandbox-worker.ts')],
      bundle: true,
      write: false,
      metafile: true,
      format: 'esm',
      platform: 'neutral',
      mainFields: ['browser', 'module', 'main'],
      conditions: ['workerd', 'worker', 'browser', 'import'],
      logLevel: 'silent',
      plugins: [
        {
          name: 'forbidden',
          setup(b) {
            b.onResolve({ filter: /^(node:|undici|ioredis|pino|fs$|net$|tls$|crypto$)/ }, (args) => {
              forbidden.push(`${relative(ROOT, args.importer)} → ${args.path}`);
              return { path: args.path, external: true };
            });
          },
        },
      ],
    });
    expect(forbidden).toEqual([]);
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).toEqual(expect.arrayContaining(['plugin/adapter/workers/index.ts', 'plugin/adapter/workers/do-store.ts', 'plugin/gateway.ts']));
    expect(inputs.filter((file) => /adapter\/(node|deno|bun)\//.test(file))).toEqual([]);
  });
});
