import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority } from '../../sandbox/pki.js';
import type { ApiManifest } from '../manifest/types.js';
import { ConfigError, resolveConfig } from './resolve-config.js';
import type { BankgateConfig } from './schema.js';

const manifest: ApiManifest = {
  bank: 'b',
  api: 'ais',
  title: 't',
  version: '1',
  servers: ['https://bank.example/v1'],
  specSha256: 'x',
  routes: [{ operationId: 'accounts', method: 'get', path: '/accounts', params: { path: [], query: [], header: [] }, scopes: ['accounts'], tokenKind: 'psu' }],
};

async function problemsOf(config: BankgateConfig, env: NodeJS.ProcessEnv = {}): Promise<readonly string[]> {
  try {
    await resolveConfig(config, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('resolveConfig', () => {
  let dir: string;
  let good: BankgateConfig;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bankgate-config-'));
    const ca = await createCertificateAuthority('test CA');
    const client = await ca.issueClient({ commonName: 'tpp' });
    const expired = await ca.issueClient({ commonName: 'old tpp', notBefore: new Date('2020-01-01'), notAfter: new Date('2021-01-01') });
    const other = await ca.issueClient({ commonName: 'other' });
    writeFileSync(join(dir, 'cert.pem'), client.certPem);
    writeFileSync(join(dir, 'key.pem'), client.keyPem);
    writeFileSync(join(dir, 'expired.pem'), expired.certPem);
    writeFileSync(join(dir, 'expired-key.pem'), expired.keyPem);
    writeFileSync(join(dir, 'other-key.pem'), other.keyPem);
    good = {
      banks: {
        b: {
          apis: { ais: { manifest } },
          authorizationServer: { kind: 'static', issuer: 'https://as.example', authorizationEndpoint: 'https://as.example/authorize', tokenEndpoint: 'https://as.example/token' },
          client: { clientId: 'id', auth: { method: 'client_secret_post', secret: { env: 'B_SECRET' } } },
          mtls: { cert: { file: join(dir, 'cert.pem') }, key: { file: join(dir, 'key.pem') } },
        },
      },
    };
  });

  it('resolves a good config, with PSU scopes taken from the manifests', async () => {
    const resolved = await resolveConfig(good, { B_SECRET: 's3cret', BANKGATE_DEV_KEY: 'k'.repeat(20) });
    const bank = resolved.banks.get('b')!;
    expect(bank.client.secret).toBe('s3cret');
    expect(bank.consent.scopes).toEqual(['accounts']);
    expect(bank.apis.get('ais')!.baseUrl.href).toBe('https://bank.example/v1');
    expect(resolved.devKey).toBe('k'.repeat(20));
  });

  it('names every problem by its path', async () => {
    const bad = structuredClone(good) as BankgateConfig & { banks: Record<string, any> };
    bad.banks.b.mtls.cert = { file: join(dir, 'missing.pem') };
    bad.banks.b.authorizationServer.tokenEndpoint = 'http://as.example/token';
    const schemaProblems = await problemsOf(bad, {});
    expect(schemaProblems).toContain('banks.b.authorizationServer.tokenEndpoint: must be an https:// URL');

    const fileProblems = await problemsOf({ ...good, banks: { b: { ...good.banks.b!, mtls: { cert: { file: join(dir, 'missing.pem') }, key: { file: join(dir, 'key.pem') } } } } }, {});
    expect(fileProblems).toContain(`banks.b.mtls.cert: file ${join(dir, 'missing.pem')} not found`);
    expect(fileProblems).toContain('banks.b.client.auth.secret: environment variable B_SECRET is not set');
  });

  it('refuses an expired client certificate and a key that is not the certificate’s', async () => {
    const expired = await problemsOf({ banks: { b: { ...good.banks.b!, mtls: { cert: { file: join(dir, 'expired.pem') }, key: { file: join(dir, 'expired-key.pem') } } } } }, { B_SECRET: 's' });
    expect(expired.some((p) => p.startsWith('banks.b.mtls.cert: certificate') && p.includes('expired'))).toBe(true);
    const mismatch = await problemsOf({ banks: { b: { ...good.banks.b!, mtls: { cert: { file: join(dir, 'cert.pem') }, key: { file: join(dir, 'other-key.pem') } } } } }, { B_SECRET: 's' });
    expect(mismatch.some((p) => p.startsWith('banks.b.mtls.key: ') && p.includes('does not belong to the certificate'))).toBe(true);
  });

  it('refuses unknown keys and bad names instead of ignoring them', async () => {
    const problems = await problemsOf({ ...good, banks: { 'Bad Name': good.banks.b!, b: { ...good.banks.b!, extra: 1 } as never } }, { B_SECRET: 's' });
    expect(problems.some((p) => p.startsWith('banks.Bad Name'))).toBe(true);
    expect(problems.some((p) => p.startsWith('banks.b') && p.includes('extra'))).toBe(true);
  });
});
