/**
 * The core on a runtime made only of portable pieces, as an edge adapter would assemble one: no files, the
 * transport `createFetchTransport` over an injected fetch (here the bank is a Hono app answering in memory,
 * standing in for a Workers mTLS binding), the memory store, the portable line logger. It serves a signed
 * bank call; what such a runtime cannot do is refused at start with the path and the way out.
 */
import { createPrivateKey, verify } from 'node:crypto';
import { Hono } from 'hono';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority, type PemPair } from '../sandbox/pki.js';
import { ConfigError } from './config/resolve-config.js';
import type { BankgateConfig } from './config/schema.js';
import { createGateway } from './gateway.js';
import { createLineLogger } from './log.js';
import type { ApiManifest } from './manifest/types.js';
import type { Runtime } from './runtime.js';
import { createMemoryStore } from './store/memory-store.js';
import { createFetchTransport } from './transport/fetch-transport.js';
import { signingString } from './transport/signing.js';

const manifest: ApiManifest = {
  bank: 'b',
  api: 'ref',
  title: 'reference data',
  version: '1',
  servers: ['https://bank.example/v1'],
  specSha256: 'x',
  routes: [{ operationId: 'currencies', method: 'get', path: '/currencies', params: { path: [], query: [], header: [] }, scopes: [], tokenKind: 'none' }],
};

const DEV_KEY = 'edge-dev-key-0123456789';

/** What the bank saw, per request. */
const seen: Array<{ url: string; headers: Record<string, string> }> = [];
const bank = new Hono().get('/v1/currencies', (c) => {
  seen.push({ url: c.req.url, headers: c.req.header() });
  return c.json({ currencies: ['EUR', 'SEK'] });
});

function edgeRuntime(env: Record<string, string>, lines: string[] = []): Runtime {
  return {
    name: 'edge',
    env,
    replicaId: 'edge-1',
    logger: (level) => createLineLogger((line) => lines.push(line), level),
    // The platform holds the client certificate: nothing to read here, the binding is the fetch.
    transport: (request) => createFetchTransport({ bank: request.bank, fetch: async (input, init) => bank.request(input as string, init), ...(request.signing ? { signing: request.signing } : {}) }),
    store: async () => createMemoryStore(),
  };
}

let seal: PemPair;
const config = (signingKey: { env: string } | { file: string }): BankgateConfig => ({
  banks: {
    b: {
      apis: { ref: { manifest } },
      authorizationServer: { kind: 'static', issuer: 'https://as.example', authorizationEndpoint: 'https://as.example/a', tokenEndpoint: 'https://as.example/t' },
      client: { clientId: 'tpp', auth: { method: 'tls_client_auth' } },
      mtls: { cert: { env: 'QWAC' }, key: { env: 'QWAC_KEY' } },
      signing: { keyId: 'qseal-1', key: signingKey, headers: ['(request-target)', 'digest', 'x-request-id'] },
    },
  },
});

beforeAll(async () => {
  seal = await (await createCertificateAuthority('edge CA')).issueClient({ commonName: 'qseal', keyType: 'rsa' });
});

describe('the core on a portable runtime', () => {
  it('serves a bank call, signed with WebCrypto, through the runtime’s transport and logger', async () => {
    const lines: string[] = [];
    const gateway = await createGateway(config({ env: 'QSEAL' }), { runtime: edgeRuntime({ BANKGATE_DEV_KEY: DEV_KEY, QSEAL: seal.keyPem }, lines) });
    const response = await gateway.app.request('/b/ref/currencies', { headers: { authorization: `Bearer ${DEV_KEY}` } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ currencies: ['EUR', 'SEK'] });
    const request = seen.at(-1)!;
    expect(request.url).toBe('https://bank.example/v1/currencies');
    const signature = Object.fromEntries([...request.headers.signature!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const text = signingString({ method: 'GET', path: '/v1/currencies', headers: request.headers, signedHeaders: signature.headers!.split(' ') });
    expect(verify('sha256', Buffer.from(text), seal.certPem, Buffer.from(signature.signature!, 'base64'))).toBe(true);
    // No /docs without a bundle from the runtime: a problem that says why.
    const docs = await gateway.app.request('/docs');
    expect(docs.status).toBe(404);
    expect(await docs.json()).toMatchObject({ code: 'route_not_found', detail: expect.stringContaining('the edge runtime serves no /docs') });
    await gateway.close();
  });

  it('refuses at start what the runtime cannot read, all problems together, each with its path and the way out', async () => {
    const encrypted = createPrivateKey(seal.keyPem).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }).toString();
    const encryptedConfig = config({ env: 'QSEAL' });
    encryptedConfig.banks.b!.signing!.keyPassphrase = { env: 'QSEAL_PASS' };
    encryptedConfig.banks.b!.client = { clientId: 'tpp', auth: { method: 'client_secret_post', secret: { file: '/run/secrets/seb' } } };
    const error = await createGateway(encryptedConfig, { runtime: edgeRuntime({ QSEAL: encrypted, QSEAL_PASS: 'pw' }) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      "banks.b.client.auth.secret: { file: '/run/secrets/seb' } cannot be read: the edge runtime has no files; give it as { env: '…' } (or the runtime's binding)",
      expect.stringMatching(/^banks\.b\.signing\.key: is an encrypted private key, which the edge runtime cannot decrypt .*openssl pkcs8 -topk8 -nocrypt/),
    ]);
    expect(error).toMatchObject({ code: 'config_invalid' });
  });
});
