import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority } from '../../../sandbox/pki.js';
import { ConfigError } from '../../config/resolve-config.js';
import type { BankgateConfig } from '../../config/schema.js';
import { createGateway as createCoreGateway } from '../../gateway.js';
import { silentLogger } from '../../log.js';
import type { ApiManifest } from '../../manifest/types.js';
import { createGateway } from './create-gateway.js';
import { nodeRuntime } from './runtime.js';

const manifest: ApiManifest = {
  bank: 'b',
  api: 'ais',
  title: 't',
  version: '1',
  servers: ['https://bank.example/v1'],
  specSha256: 'x',
  routes: [{ operationId: 'accounts', method: 'get', path: '/accounts', params: { path: [], query: [], header: [] }, scopes: ['accounts'], tokenKind: 'psu' }],
};

let dir: string;
let good: BankgateConfig;
const file = (name: string) => ({ file: join(dir, name) });
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bankgate-node-gateway-'));
  const ca = await createCertificateAuthority('test CA');
  const [client, expired, other] = await Promise.all([
    ca.issueClient({ commonName: 'tpp' }),
    ca.issueClient({ commonName: 'old tpp', notBefore: new Date('2020-01-01'), notAfter: new Date('2021-01-01') }),
    ca.issueClient({ commonName: 'other' }),
  ]);
  for (const [name, text] of Object.entries({ 'cert.pem': client.certPem, 'key.pem': client.keyPem, 'expired.pem': expired.certPem, 'expired-key.pem': expired.keyPem, 'other-key.pem': other.keyPem })) {
    writeFileSync(join(dir, name), text);
  }
  good = {
    store: 'memory',
    banks: {
      b: {
        apis: { ais: { manifest } },
        authorizationServer: { kind: 'static', issuer: 'https://as.example', authorizationEndpoint: 'https://as.example/authorize', tokenEndpoint: 'https://as.example/token' },
        client: { clientId: 'id', auth: { method: 'client_secret_post', secret: { env: 'B_SECRET' } } },
        mtls: { cert: file('cert.pem'), key: file('key.pem') },
      },
    },
  };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function problemsOf(config: BankgateConfig, env: Record<string, string> = {}): Promise<readonly string[]> {
  try {
    const gateway = await createGateway(config, { env, log: silentLogger });
    await gateway.close();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

function withMtls(mtls: NonNullable<BankgateConfig['banks'][string]>['mtls']): BankgateConfig {
  const config = structuredClone(good);
  config.banks.b!.mtls = mtls;
  return config;
}

describe('createGateway on Node: config and certificate problems together, under their paths', () => {
  it('starts with a good config, nodeRuntime() by default', async () => {
    const gateway = await createGateway(good, { env: { B_SECRET: 's', BANKGATE_DEV_KEY: 'k'.repeat(20) }, log: silentLogger });
    expect(gateway.config.banks.get('b')!.client.secret).toBe('s');
    expect((await gateway.app.request('/healthz')).status).toBe(200);
    await gateway.close();
  });

  it('a missing certificate file and a missing secret, in one ConfigError', async () => {
    const problems = await problemsOf(withMtls({ cert: file('missing.pem'), key: file('key.pem') }));
    expect(problems).toEqual([`banks.b.client.auth.secret: environment variable B_SECRET is not set`, `banks.b.mtls.cert: file ${join(dir, 'missing.pem')} not found`]);
  });

  it('refuses an expired client certificate and a key that is not the certificate’s, on the bank and on an API override', async () => {
    const expired = await problemsOf(withMtls({ cert: file('expired.pem'), key: file('expired-key.pem') }), { B_SECRET: 's' });
    expect(expired).toEqual([expect.stringMatching(/^banks\.b\.mtls\.cert: certificate .*expired on 2021-01-01/)]);
    const config = withMtls({ cert: file('cert.pem'), key: file('key.pem') });
    config.banks.b!.apis.ais!.mtls = { cert: file('cert.pem'), key: file('other-key.pem') };
    const mismatch = await problemsOf(config, { B_SECRET: 's' });
    expect(mismatch).toEqual(['banks.b.apis.ais.mtls.key: does not belong to the certificate in cert']);
  });

  it('the core without a runtime says which import to use', async () => {
    await expect(createCoreGateway(good)).rejects.toMatchObject({ code: 'config_invalid', message: expect.stringContaining("import { createGateway } from 'bankgate/node'") });
    const gateway = await createCoreGateway(good, { runtime: nodeRuntime({ env: { B_SECRET: 's' } }), log: silentLogger });
    await gateway.close();
  });
});
