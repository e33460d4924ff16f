import { describe, expect, it } from 'vitest';
import type { ApiManifest } from '../manifest/types.js';
import { ConfigError, resolveConfig, type ConfigSource } from './resolve-config.js';
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

/** A runtime's reading side without files (as on Workers), or with the files given here. */
function source(env: Record<string, string> = {}, files?: Record<string, string>): ConfigSource {
  return {
    name: files ? 'test' : 'edge',
    env,
    ...(files
      ? {
          files: {
            read: (path: string) => {
              if (!(path in files)) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
              return new TextEncoder().encode(files[path]);
            },
          },
        }
      : {}),
  };
}

async function problemsOf(config: BankgateConfig, from: ConfigSource): Promise<readonly string[]> {
  try {
    await resolveConfig(config, from);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

const good: BankgateConfig = {
  banks: {
    b: {
      apis: { ais: { manifest } },
      authorizationServer: { kind: 'static', issuer: 'https://as.example', authorizationEndpoint: 'https://as.example/authorize', tokenEndpoint: 'https://as.example/token' },
      client: { clientId: 'id', auth: { method: 'client_secret_post', secret: { env: 'B_SECRET' } } },
      mtls: { cert: { file: '/etc/qwac.pem' }, key: { file: '/etc/qwac.key' } },
    },
  },
};

describe('resolveConfig (portable: the runtime supplies env and files)', () => {
  it('resolves a good config, with PSU scopes taken from the manifests; mtls stays data for the runtime', async () => {
    const resolved = await resolveConfig(good, source({ B_SECRET: 's3cret', BANKGATE_DEV_KEY: 'k'.repeat(20) }));
    const bank = resolved.banks.get('b')!;
    expect(bank.client.secret).toBe('s3cret');
    expect(bank.consent.scopes).toEqual(['accounts']);
    expect(bank.apis.get('ais')!.baseUrl.href).toBe('https://bank.example/v1');
    expect(bank.mtls).toEqual({ kind: 'pem', cert: { file: '/etc/qwac.pem' }, key: { file: '/etc/qwac.key' }, warnDays: 30, watch: true, reloadDebounceMs: 250 });
    expect(resolved.devKey).toBe('k'.repeat(20));
  });

  it('names every problem by its path, all together', async () => {
    const bad = structuredClone(good) as BankgateConfig & { banks: Record<string, any> };
    bad.banks.b.authorizationServer.tokenEndpoint = 'http://as.example/token';
    expect(await problemsOf(bad, source())).toContain('banks.b.authorizationServer.tokenEndpoint: must be an https:// URL');
    const withFiles = { ...good, callers: { keys: { batch: { key: { file: '/keys/batch' }, allow: ['*'] } } } };
    expect(await problemsOf(withFiles, source({}, {}))).toEqual([
      'banks.b.client.auth.secret: environment variable B_SECRET is not set',
      'callers.keys.batch.key: file /keys/batch not found',
    ]);
  });

  it('a { file } reference on a runtime without files: the path, and that the runtime has none', async () => {
    const config = { ...good, banks: { b: { ...good.banks.b!, client: { clientId: 'id', auth: { method: 'client_secret_post' as const, secret: { file: '/run/secret' } } } } } };
    expect(await problemsOf(config, source())).toEqual([
      "banks.b.client.auth.secret: { file: '/run/secret' } cannot be read: the edge runtime has no files; give it as { env: '…' } (or the runtime's binding)",
    ]);
  });

  it('refuses unknown keys and bad names instead of ignoring them', async () => {
    const problems = await problemsOf({ ...good, banks: { 'Bad Name': good.banks.b!, b: { ...good.banks.b!, extra: 1 } as never } }, source({ B_SECRET: 's' }));
    expect(problems.some((p) => p.startsWith('banks.Bad Name'))).toBe(true);
    expect(problems.some((p) => p.startsWith('banks.b') && p.includes('extra'))).toBe(true);
  });

  it('precompiled validators: kept when generated with the manifest, refused under their path when from another spec', async () => {
    const env = { B_SECRET: 's3cret', BANKGATE_DEV_KEY: 'k'.repeat(20) };
    const withValidators = (specSha256: string): BankgateConfig => ({ banks: { b: { ...good.banks.b!, apis: { ais: { manifest, validators: { specSha256, validators: {} } } } } } });
    const resolved = await resolveConfig(withValidators('x'), source(env));
    expect(resolved.banks.get('b')!.apis.get('ais')!.validators).toEqual({ specSha256: 'x', validators: {} });
    expect(await problemsOf(withValidators('y'), source(env))).toEqual([expect.stringMatching(/^banks\.b\.apis\.ais\.validators: were generated from another spec than the manifest/)]);
    expect(await problemsOf({ banks: { b: { ...good.banks.b!, apis: { ais: { manifest, validators: 'generated/b/ais/validators.js' as never } } } } }, source(env))).toEqual([expect.stringMatching(/^banks\.b\.apis\.ais\.validators: must be the default export of generated/)]);
  });

  it('request body limits per operation: kept by operationId, an unknown operationId refused under its path', async () => {
    const env = { B_SECRET: 's3cret', BANKGATE_DEV_KEY: 'k'.repeat(20) };
    const operationId = manifest.routes[0]!.operationId;
    const withLimits = (limits: Record<string, number>): BankgateConfig => ({ banks: { b: { ...good.banks.b!, apis: { ais: { manifest, requestBodyLimits: limits } } } } });
    const resolved = await resolveConfig(withLimits({ [operationId]: 2048 }), source(env));
    expect(resolved.banks.get('b')!.apis.get('ais')!.requestBodyLimits?.get(operationId)).toBe(2048);
    expect(await problemsOf(withLimits({ nope: 2048 }), source(env))).toEqual([expect.stringMatching(/^banks\.b\.apis\.ais\.requestBodyLimits\.nope: names no operation of this API/)]);
    expect((await problemsOf(withLimits({ [operationId]: 0 }), source(env)))[0]).toMatch(/^banks\.b\.apis\.ais\.requestBodyLimits\./);
  });

  it('breaker cool-downs: the longest defaults to 60 s or coolDownMs when longer; one shorter than coolDownMs is refused under its path', async () => {
    const env = { B_SECRET: 's3cret', BANKGATE_DEV_KEY: 'k'.repeat(20) };
    const withBreaker = (breaker: Record<string, number>): BankgateConfig => ({ banks: { b: { ...good.banks.b!, transport: { breaker } } } });
    const breakerOf = async (breaker: Record<string, number>) => (await resolveConfig(withBreaker(breaker), source(env))).banks.get('b')!.transport.breaker;
    expect(await breakerOf({})).toMatchObject({ coolDownMs: 5_000, maxCoolDownMs: 60_000 });
    expect(await breakerOf({ coolDownMs: 90_000 })).toMatchObject({ coolDownMs: 90_000, maxCoolDownMs: 90_000 });
    expect(await problemsOf(withBreaker({ coolDownMs: 10_000, maxCoolDownMs: 5_000 }), source(env))).toEqual(['banks.b.transport.breaker.maxCoolDownMs: must be at least coolDownMs']);
  });

  it('signing: the key is read and checked at start, problems under banks.<bank>.signing', async () => {
    const withSigning: BankgateConfig = { ...good, banks: { b: { ...good.banks.b!, signing: { keyId: 'k', key: { env: 'QSEAL' } } } } };
    expect(await problemsOf(withSigning, source({ B_SECRET: 's' }))).toEqual(['banks.b.signing.key: environment variable QSEAL is not set']);
    expect(await problemsOf(withSigning, source({ B_SECRET: 's', QSEAL: 'not a key' }))).toEqual([
      'banks.b.signing.key: must be the PEM text of a private key (read the file first), got string',
    ]);
  });
});
