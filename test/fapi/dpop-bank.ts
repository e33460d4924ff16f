/**
 * A FAPI 2.0 authorization server that sender-constrains tokens with DPoP instead of certificates, for the gateway's
 * DPoP tests (the ukob sandbox binds tokens by certificate only). It is oidc-provider, configured, so everything DPoP
 * (proofs at PAR and at the token endpoint, `dpop_jkt`, nonces, DPoP-bound tokens, `ath` at userinfo) is checked by
 * oidc-provider itself: `features.fapi` 2.0, PAR required, `private_key_jwt` (ES256), `features.dPoP` with nonces
 * required, userinfo as the protected resource. The sandbox's headless interaction lets a PSU consent.
 */
import { randomBytes, webcrypto } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Provider, { type JWK } from 'oidc-provider';
import { authorizationServerHandler, baseConfiguration } from '../../sandbox/authorization-server.js';
import type { SandboxPsu } from '../../sandbox/data.js';
import { bindServer } from '../../sandbox/listen.js';
import { createCertificateAuthority } from '../../sandbox/pki.js';

export interface DpopBank {
  readonly issuer: string;
  readonly clientId: string;
  /** Files: the CA to pin, a client certificate (the bank asks for none; the gateway's config wants one), keys. */
  readonly caFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  /** The client's private_key_jwt key (ES256), registered by its public JWK under `clientKeyId`. */
  readonly assertionKeyFile: string;
  readonly clientKeyId: string;
  /** The DPoP key the gateway proves possession of. */
  readonly dpopKeyFile: string;
  /** Every DPoP proof oidc-provider accepted, by endpoint (`token`, `pushed_authorization_request`, `userinfo`). */
  readonly proofsSeen: Map<string, number>;
  /** `use_dpop_nonce` refusals, by endpoint: a proof without the server's current nonce. */
  readonly nonceRefusals: Map<string, number>;
  close(): Promise<void>;
}

async function pkcs8Pem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END PRIVATE KEY-----\n`;
}

export async function startDpopBank(): Promise<DpopBank> {
  const dir = await mkdtemp(join(tmpdir(), 'bankgate-dpop-'));
  const ca = await createCertificateAuthority('bankgate DPoP test CA');
  const server = await ca.issueServer();
  const client = await ca.issueClient({ commonName: 'bankgate dpop tpp' });
  const bound = await bindServer(0, { cert: server.certPem, key: server.keyPem });
  const issuer = bound.origin;

  const ecParams = { name: 'ECDSA', namedCurve: 'P-256' } as const;
  const assertionPair = (await webcrypto.subtle.generateKey(ecParams, true, ['sign', 'verify'])) as CryptoKeyPair;
  const dpopPair = (await webcrypto.subtle.generateKey(ecParams, true, ['sign', 'verify'])) as CryptoKeyPair;
  const clientKeyId = randomBytes(6).toString('hex');
  const publicJwk = { ...((await webcrypto.subtle.exportKey('jwk', assertionPair.publicKey)) as JWK), kid: clientKeyId, alg: 'ES256', use: 'sig' };
  const files = {
    caFile: join(dir, 'ca.pem'),
    clientCertFile: join(dir, 'client.pem'),
    clientKeyFile: join(dir, 'client.key'),
    assertionKeyFile: join(dir, 'assertion.key'),
    dpopKeyFile: join(dir, 'dpop.key'),
  };
  await Promise.all([
    writeFile(files.caFile, ca.certPem),
    writeFile(files.clientCertFile, client.certPem),
    writeFile(files.clientKeyFile, client.keyPem, { mode: 0o600 }),
    writeFile(files.assertionKeyFile, await pkcs8Pem(assertionPair.privateKey), { mode: 0o600 }),
    writeFile(files.dpopKeyFile, await pkcs8Pem(dpopPair.privateKey), { mode: 0o600 }),
  ]);

  const clientId = `dpop-${randomBytes(6).toString('hex')}`;
  const psus: SandboxPsu[] = [{ id: 'dpop-psu', name: 'Dee Pop', accounts: [] }];
  const base = baseConfiguration({ psus, accessTtlSeconds: 300 });
  const provider = new Provider(issuer, {
    ...base,
    routes: { authorization: '/as/authorize', token: '/as/token', pushed_authorization_request: '/as/par', userinfo: '/as/userinfo', jwks: '/as/jwks' },
    scopes: ['openid', 'accounts'],
    clientAuthMethods: ['private_key_jwt'],
    enabledJWA: { clientAuthSigningAlgValues: ['ES256'], dPoPSigningAlgValues: ['ES256', 'PS256'], idTokenSigningAlgValues: ['ES256'] },
    clients: [
      {
        client_id: clientId,
        application_type: 'native',
        redirect_uris: ['http://127.0.0.1/callback/dpop'],
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
        response_types: ['code'],
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        id_token_signed_response_alg: 'ES256',
        dpop_bound_access_tokens: true,
        jwks: { keys: [publicJwk] },
      },
    ],
    features: {
      ...base.features,
      fapi: { enabled: true, profile: '2.0' },
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: true },
      clientCredentials: { enabled: true },
      userinfo: { enabled: true },
      dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true },
    },
  });
  const proofsSeen = new Map<string, number>();
  const nonceRefusals = new Map<string, number>();
  provider.use(async (ctx, next) => {
    await next();
    const route = ctx.oidc?.route;
    if (route && ctx.get('dpop') && ctx.status < 400) proofsSeen.set(route, (proofsSeen.get(route) ?? 0) + 1);
    if (route && ctx.status >= 400 && /use_dpop_nonce/.test(JSON.stringify(ctx.body ?? '') + String(ctx.response.get('www-authenticate')))) nonceRefusals.set(route, (nonceRefusals.get(route) ?? 0) + 1);
  });
  bound.handle(authorizationServerHandler(provider, { bankTitle: 'DPoP bank', psus }));
  return {
    issuer,
    clientId,
    clientKeyId,
    ...files,
    proofsSeen,
    nonceRefusals,
    async close() {
      await bound.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
