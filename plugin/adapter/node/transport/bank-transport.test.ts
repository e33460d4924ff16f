import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateThumbprint, createCertificateAuthority, type PemPair } from '../../../../sandbox/pki.js';
import { resolveConfig } from '../../../config/resolve-config.js';
import type { BankgateConfig } from '../../../config/schema.js';
import { createJsonLogger } from '../log.js';
import { nodeRuntime } from '../runtime.js';
import type { ApiManifest } from '../../../manifest/types.js';
import { MetricsRegistry } from '../../../observability/metrics.js';
import { nodeBankTransport } from './node-bank-transport.js';
import { createNodeTransport } from './node-transport.js';
import { loadClientIdentity } from './client-identity.js';
import { createTestPki, startUpstream, type TestPki, type Upstream } from './upstream.fixture.js';

const manifest = (api: string, server: string): ApiManifest => ({
  bank: 'b',
  api,
  title: api,
  version: '1',
  servers: [server],
  specSha256: 'x',
  routes: [{ operationId: `${api}Get`, method: 'get', path: '/x', params: { path: [], query: [], header: [] }, scopes: [], tokenKind: 'none' }],
});

let pki: TestPki;
let bank: Upstream;
let dir: string;
let soon: PemPair;
beforeAll(async () => {
  pki = await createTestPki();
  bank = await startUpstream({ cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.caPem });
  dir = mkdtempSync(join(tmpdir(), 'bankgate-bank-transport-'));
  for (const [name, text] of Object.entries({ 'ca.pem': pki.caPem, 'qwac.pem': pki.client.certPem, 'qwac-key.pem': pki.client.keyPem, 'seal.pem': pki.sealing.certPem, 'seal-key.pem': pki.sealing.keyPem })) {
    writeFileSync(join(dir, name), text);
  }
  soon = await (await createCertificateAuthority('soon CA')).issueClient({ commonName: 'expiring', notAfter: new Date(Date.now() + 5 * 86_400_000) });
});
afterAll(async () => {
  await bank.close();
  rmSync(dir, { recursive: true, force: true });
});

function config(mtls: NonNullable<BankgateConfig['banks'][string]>['mtls'], apis?: BankgateConfig['banks'][string]['apis']): BankgateConfig {
  return {
    store: 'memory',
    banks: {
      b: {
        apis: apis ?? { ais: { manifest: manifest('ais', `${bank.origin}/v1/ais`) } },
        authorizationServer: { kind: 'static', issuer: 'https://as.example', authorizationEndpoint: 'https://as.example/a', tokenEndpoint: 'https://as.example/t' },
        client: { clientId: 'id', auth: { method: 'tls_client_auth' } },
        mtls,
      },
    },
  } as BankgateConfig;
}

const runtime = (env: NodeJS.ProcessEnv = {}) => nodeRuntime({ env });

async function thumbprintSeen(mtls: Parameters<typeof config>[0], env: NodeJS.ProcessEnv = {}, path = '/v1/ais/x'): Promise<string | null> {
  const resolved = await resolveConfig(config(mtls), runtime(env));
  const transport = await nodeBankTransport(resolved.banks.get('b')!, { env });
  try {
    await transport.send({ method: 'GET', origin: bank.origin, path, headers: {} });
    return bank.received.at(-1)!.thumbprint;
  } finally {
    await transport.close();
  }
}

describe('nodeBankTransport: certificates by reference', () => {
  const ca = () => ({ file: join(dir, 'ca.pem') });

  it('PEM files', async () => {
    expect(await thumbprintSeen({ cert: { file: join(dir, 'qwac.pem') }, key: { file: join(dir, 'qwac-key.pem') }, ca: ca() })).toBe(certificateThumbprint(pki.client.certPem));
  });

  it('PEM in env vars, also with its newlines escaped as \\n', async () => {
    const env = { QWAC: pki.client.certPem.replace(/\n/g, '\\n'), QWAC_KEY: pki.client.keyPem };
    expect(await thumbprintSeen({ cert: { env: 'QWAC' }, key: { env: 'QWAC_KEY' }, ca: ca() }, env)).toBe(certificateThumbprint(pki.client.certPem));
  });

  it('PKCS#12 from a file, and base64 in an env var, with a passphrase', async () => {
    const p12 = join(dir, 'qwac.p12');
    execFileSync('openssl', ['pkcs12', '-export', '-in', join(dir, 'qwac.pem'), '-inkey', join(dir, 'qwac-key.pem'), '-out', p12, '-passout', 'pass:s3cret'], { stdio: 'pipe' });
    const expected = certificateThumbprint(pki.client.certPem);
    expect(await thumbprintSeen({ pfx: { file: p12 }, passphrase: { env: 'PW' }, ca: ca() }, { PW: 's3cret' })).toBe(expected);
    expect(await thumbprintSeen({ pfx: { env: 'P12' }, passphrase: { value: 's3cret' }, ca: ca() }, { P12: readFileSync(p12).toString('base64') })).toBe(expected);
  });

  it('cert + key and pfx together, or neither, are config errors naming the path', async () => {
    await expect(resolveConfig(config({ pfx: { file: 'x' }, cert: { file: 'y' }, key: { file: 'z' } } as never), runtime())).rejects.toMatchObject({ problems: ['banks.b.mtls: give either cert + key (PEM) or pfx + passphrase (PKCS#12), not both'] });
    await expect(resolveConfig(config({ cert: { file: join(dir, 'qwac.pem') } } as never), runtime())).rejects.toMatchObject({ problems: [expect.stringMatching(/^banks\.b\.mtls\.key: required/)] });
  });

  it('a per-API mtls override presents its own certificate on that API only; token requests keep the bank certificate', async () => {
    // The override is another certificate of the bank's CA (the test PKI's QSeal pair).
    const resolved = await resolveConfig(
      config({ cert: { file: join(dir, 'qwac.pem') }, key: { file: join(dir, 'qwac-key.pem') }, ca: ca() }, {
        ais: { manifest: manifest('ais', `${bank.origin}/v1/ais`) },
        pis: { manifest: manifest('pis', `${bank.origin}/v1/pis`), mtls: { cert: { file: join(dir, 'seal.pem') }, key: { file: join(dir, 'seal-key.pem') }, ca: ca() } },
      }),
      runtime(),
    );
    const transport = await nodeBankTransport(resolved.banks.get('b')!);
    try {
      for (const [path, cert] of [['/v1/pis/x', pki.sealing.certPem], ['/v1/pisx', pki.client.certPem], ['/v1/ais/x', pki.client.certPem]] as const) {
        await transport.send({ method: 'GET', origin: bank.origin, path, headers: {} });
        expect(bank.received.at(-1)!.thumbprint, path).toBe(certificateThumbprint(cert));
      }
      await transport.fetch(`${bank.origin}/token`);
      expect(bank.received.at(-1)!.thumbprint).toBe(certificateThumbprint(pki.client.certPem));
      expect(transport.clientCertificateThumbprint?.()).toBe(certificateThumbprint(pki.client.certPem));
    } finally {
      await transport.close();
    }
  });
});

describe('nodeBankTransport: expiry', () => {
  it('a certificate expiring within warnDays: a warning and the expiry gauge', async () => {
    writeFileSync(join(dir, 'soon.pem'), soon.certPem);
    writeFileSync(join(dir, 'soon-key.pem'), soon.keyPem);
    const lines: Array<Record<string, unknown>> = [];
    const metrics = new MetricsRegistry();
    const resolved = await resolveConfig(config({ cert: { file: join(dir, 'soon.pem') }, key: { file: join(dir, 'soon-key.pem') }, warnDays: 7 }), runtime());
    const transport = await nodeBankTransport(resolved.banks.get('b')!, { metrics, log: createJsonLogger((line) => lines.push(JSON.parse(line))) });
    await transport.close();
    const days = metrics.value('bankgate_client_certificate_expiry_days', { bank: 'b' })!;
    expect(days).toBeGreaterThan(4.9);
    expect(days).toBeLessThanOrEqual(5);
    expect(metrics.render()).toMatch(/# TYPE bankgate_client_certificate_expiry_days gauge\nbankgate_client_certificate_expiry_days\{bank="b"\} 4\.9\d/);
    expect(lines).toEqual([expect.objectContaining({ level: 'warn', event: 'bank.certificate.expiring', bank: 'b', path: 'banks.b.mtls', warnDays: 7 })]);

    // Outside warnDays (default 30 → 3): the gauge, no warning.
    lines.length = 0;
    const quiet = await resolveConfig(config({ cert: { file: join(dir, 'soon.pem') }, key: { file: join(dir, 'soon-key.pem') }, warnDays: 3 }), runtime());
    await (await nodeBankTransport(quiet.banks.get('b')!, { metrics, log: createJsonLogger((line) => lines.push(JSON.parse(line))) })).close();
    expect(lines).toEqual([]);
  });
});

describe('createNodeTransport: useClientIdentity', () => {
  it('a call in flight completes on the old connection; the next call presents the new certificate', async () => {
    const slow = await startUpstream({ cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.caPem }, (request, res) => {
      setTimeout(() => res.end(request.thumbprint ?? ''), request.url === '/slow' ? 300 : 0);
    });
    const transport = createNodeTransport({ bank: 'b', tls: { ca: pki.caPem, cert: pki.client.certPem, key: pki.client.keyPem } });
    try {
      const inFlight = transport.send({ method: 'GET', origin: slow.origin, path: '/slow', headers: {} });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const drained = transport.useClientIdentity(loadClientIdentity({ cert: pki.sealing.certPem, key: pki.sealing.keyPem }));
      expect(transport.clientCertificateThumbprint?.()).toBe(certificateThumbprint(pki.sealing.certPem));
      const after = await transport.send({ method: 'GET', origin: slow.origin, path: '/fast', headers: {} });
      expect(Buffer.from(after.body).toString()).toBe(certificateThumbprint(pki.sealing.certPem));
      const before = await inFlight;
      expect(before.status).toBe(200);
      expect(Buffer.from(before.body).toString()).toBe(certificateThumbprint(pki.client.certPem));
      await drained;
    } finally {
      await transport.close();
      await slow.close();
    }
  });
});
