import { describe, expect, it } from 'vitest';
import type { ApiManifest } from '../manifest/types.js';
import { toBase64 } from '../crypto/base64.js';
import { ConfigError, resolveConfig, type ConfigSource } from '../config/resolve-config.js';
import type { BankgateConfig } from '../config/schema.js';

const manifest: ApiManifest = {
  bank: 'b',
  api: 'ais',
  title: 't',
  version: '1',
  servers: ['https://bank.example/v1'],
  specSha256: 'x',
  routes: [{ operationId: 'accounts', method: 'get', path: '/accounts', params: { path: [], query: [], header: [] }, scopes: ['accounts'], tokenKind: 'psu' }],
};

async function pem(algorithm: RsaHashedKeyGenParams | EcKeyGenParams): Promise<string> {
  const pair = (await crypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
  const der = new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
  return `-----BEGIN PRIVATE KEY-----\n${toBase64(der).replace(/.{64}/g, '$&\n')}\n-----END PRIVATE KEY-----\n`;
}

const files: Record<string, string> = {
  '/keys/rsa.pem': await pem({ name: 'RSA-PSS', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }),
  '/keys/ec.pem': await pem({ name: 'ECDSA', namedCurve: 'P-256' }),
  '/keys/p384.pem': await pem({ name: 'ECDSA', namedCurve: 'P-384' }),
  '/keys/garbage.pem': 'not a key',
};

const source: ConfigSource = {
  name: 'test',
  env: { BANKGATE_DEV_KEY: 'k'.repeat(24), SECRET: 's3cret' },
  files: {
    read: (path: string) => {
      if (!(path in files)) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      return new TextEncoder().encode(files[path]);
    },
  },
};

type Bank = BankgateConfig['banks'][string];
const base: Bank = {
  apis: { ais: { manifest } },
  authorizationServer: { kind: 'discovery', issuer: 'https://as.example' },
  client: { clientId: 'id', auth: { method: 'private_key_jwt', keyId: 'kid-1', key: { file: '/keys/rsa.pem' } } },
  mtls: { cert: { file: '/etc/qwac.pem' }, key: { file: '/etc/qwac.key' } },
};

async function problemsOf(bank: Partial<Bank>): Promise<readonly string[]> {
  try {
    await resolveConfig({ banks: { b: { ...base, ...bank } } }, source);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('FAPI config (client.auth private_key_jwt, authorizationRequest, senderConstraint)', () => {
  it('resolves private_key_jwt (PS256 from an RSA key), the FAPI 2.0 profile (PAR, iss, PS256 id_tokens) and mtls binding', async () => {
    const resolved = await resolveConfig({ banks: { b: { ...base, authorizationRequest: { profile: 'fapi2' } } } }, source);
    const bank = resolved.banks.get('b')!;
    expect(bank.client.assertionKey).toMatchObject({ keyId: 'kid-1', algorithm: 'PS256' });
    expect(bank.client.assertionKey!.privateKey.extractable).toBe(false);
    expect(bank.authorizationRequest).toMatchObject({ profile: 'fapi2', par: true, requestObject: false, responseType: 'code', requireIss: true, idTokenAlgorithm: 'PS256' });
    expect(bank.senderConstraint).toEqual({ method: 'mtls' });
  });

  it('resolves FAPI 1 Advanced (request object signed with the client key, code id_token) and DPoP with an EC key (ES256)', async () => {
    const fapi1 = (await resolveConfig({ banks: { b: { ...base, authorizationRequest: { profile: 'fapi1-advanced' } } } }, source)).banks.get('b')!;
    expect(fapi1.authorizationRequest).toMatchObject({ profile: 'fapi1-advanced', par: false, requestObject: true, responseType: 'code id_token', requireIss: false });
    expect(fapi1.authorizationRequest.signingKey).toBe(fapi1.client.assertionKey);
    const dpop = (await resolveConfig({ banks: { b: { ...base, authorizationRequest: { profile: 'fapi2' }, senderConstraint: { method: 'dpop', key: { file: '/keys/ec.pem' } } } } }, source)).banks.get('b')!;
    expect(dpop.senderConstraint).toMatchObject({ method: 'dpop', key: { algorithm: 'ES256' } });
    expect(dpop.authorizationRequest).toMatchObject({ profile: 'fapi2' });
    // The default stays plain OAuth.
    const plain = (await resolveConfig({ banks: { b: base } }, source)).banks.get('b')!;
    expect(plain.authorizationRequest).toMatchObject({ profile: 'oauth2', par: false, requestObject: false, responseType: 'code', requireIss: false });
  });

  it('names each problem under its path, all at once', async () => {
    expect(await problemsOf({ client: { clientId: 'id', auth: { method: 'client_secret_post', secret: { env: 'SECRET' } } }, authorizationRequest: { profile: 'fapi2' } })).toEqual([
      'banks.b.client.auth.method: FAPI 2.0 allows private_key_jwt or tls_client_auth, not client_secret_post',
    ]);
    expect(await problemsOf({ client: { clientId: 'id', auth: { method: 'tls_client_auth' } }, authorizationRequest: { profile: 'fapi1-advanced' } })).toEqual([
      'banks.b.authorizationRequest.signingKey: required: FAPI 1.0 Advanced signs every authorization request and client.auth is not private_key_jwt, whose key would sign it',
    ]);
    expect(await problemsOf({ authorizationRequest: { profile: 'fapi1-advanced' }, senderConstraint: { method: 'dpop', key: { file: '/keys/ec.pem' } } })).toEqual([
      'banks.b.senderConstraint.method: FAPI 1.0 Advanced binds tokens to the client certificate (mtls); DPoP is a FAPI 2.0 (or plain OAuth) option',
    ]);
    expect(await problemsOf({ client: { clientId: 'id', auth: { method: 'private_key_jwt', keyId: 'k', key: { file: '/keys/rsa.pem' }, algorithm: 'ES256' } } })).toEqual([
      'banks.b.client.auth.algorithm: ES256 needs an EC P-256 key; the key is RSA (use PS256)',
    ]);
    expect(await problemsOf({ client: { clientId: 'id', auth: { method: 'private_key_jwt', keyId: 'k', key: { file: '/keys/missing.pem' } } } })).toEqual(['banks.b.client.auth.key: file /keys/missing.pem not found']);
    const [garbage] = await problemsOf({ client: { clientId: 'id', auth: { method: 'private_key_jwt', keyId: 'k', key: { file: '/keys/garbage.pem' } } } });
    expect(garbage).toMatch(/^banks\.b\.client\.auth\.key: is not a readable PEM private key/);
    const [p384] = await problemsOf({ senderConstraint: { method: 'dpop', key: { file: '/keys/p384.pem' } } });
    expect(p384).toMatch(/^banks\.b\.senderConstraint\.key: is not a usable ES256 key .*P-256/);
    expect(
      await problemsOf({
        authorizationServer: { kind: 'static', issuer: 'https://as.example', authorizationEndpoint: 'https://as.example/a', tokenEndpoint: 'https://as.example/t' },
        authorizationRequest: { profile: 'oauth2', par: true },
      }),
    ).toEqual(['banks.b.authorizationServer.pushedAuthorizationRequestEndpoint: required: authorization requests are pushed (PAR) and the endpoints are static']);
  });

  it('refuses an algorithm FAPI does not allow, and unknown profile options, at the schema', async () => {
    await expect(resolveConfig({ banks: { b: { ...base, client: { clientId: 'id', auth: { method: 'private_key_jwt', keyId: 'k', key: { file: '/keys/rsa.pem' }, algorithm: 'RS256' as never } } } } }, source)).rejects.toMatchObject({
      problems: ['banks.b.client.auth.algorithm: must be PS256 (an RSA key) or ES256 (an EC P-256 key); FAPI allows no other'],
    });
    await expect(resolveConfig({ banks: { b: { ...base, authorizationRequest: { profile: 'fapi2', par: false } as never } } }, source)).rejects.toMatchObject({
      problems: [expect.stringMatching(/^banks\.b\.authorizationRequest: Unrecognized key: "par"/)],
    });
  });
});
