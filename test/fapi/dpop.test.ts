/**
 * DPoP (RFC 9449) as the sender constraint, against an oidc-provider FAPI 2.0 server that binds tokens to DPoP keys
 * and requires server nonces (test/fapi/dpop-bank.ts): proofs at PAR (`dpop_jkt`) and the token endpoint through the
 * bank's DPoP handle, DPoP-bound tokens, bank calls with `Authorization: DPoP` and a proof with `ath`, nonces fetched
 * and retried once. oidc-provider verifies every proof.
 */
import * as oauth from 'oauth4webapi';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consentHeadlessly } from '../../sandbox/headless-consent.js';
import { finishAuthorization, startAuthorization, withDpopNonceRetry } from '../../plugin/oauth/authorization-request.js';
import { senderConstrainedTransport } from '../../plugin/oauth/dpop-transport.js';
import { gatewayBankSide, type BankConfig, type GatewayBankSide } from './fapi-bank.js';
import { startDpopBank, type DpopBank } from './dpop-bank.js';
import { manifests } from '../../generated/index.js';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGateway, createNodeHandler } from '../../plugin/adapter/node/index.js';
import type { ApiManifest } from '../../plugin/manifest/types.js';
import { silentLogger } from '../../plugin/log.js';

const REDIRECT = 'http://127.0.0.1:4571/callback/dpop';

describe('DPoP-bound tokens (gateway side) against oidc-provider with DPoP and nonces', () => {
  let bank: DpopBank;
  let side: GatewayBankSide;

  beforeAll(async () => {
    bank = await startDpopBank();
    const config: BankConfig = {
      apis: { aisp: { manifest: manifests.ukob.aisp, baseUrl: `${bank.issuer}/as` } },
      authorizationServer: { kind: 'discovery', issuer: bank.issuer },
      client: { clientId: bank.clientId, auth: { method: 'private_key_jwt', keyId: bank.clientKeyId, key: { file: bank.assertionKeyFile } } },
      authorizationRequest: { profile: 'fapi2', idTokenAlgorithm: 'ES256' },
      senderConstraint: { method: 'dpop', key: { file: bank.dpopKeyFile } },
      mtls: { cert: { file: bank.clientCertFile }, key: { file: bank.clientKeyFile }, ca: { file: bank.caFile } },
    };
    side = await gatewayBankSide(config, 'dpop');
  });
  afterAll(async () => {
    await side?.close();
    await bank?.close();
  });

  it('gets a DPoP-bound client-credentials token (the nonce the server asks for fetched and used)', async () => {
    const as = await side.oauth.metadata();
    expect(as.dpop_signing_alg_values_supported).toContain('ES256');
    const tokens = await withDpopNonceRetry(side.oauth, async () =>
      oauth.processClientCredentialsResponse(as, side.oauth.client, await oauth.clientCredentialsGrantRequest(as, side.oauth.client, side.oauth.clientAuth, { scope: 'accounts' }, side.oauth.requestOptions)),
    );
    expect(tokens.token_type).toBe('dpop');
    expect(bank.proofsSeen.get('token')).toBeGreaterThanOrEqual(1);
  });

  it('authorises through PAR with dpop_jkt and a proof, gets DPoP-bound tokens, and calls the protected resource with proofs', async () => {
    const started = await startAuthorization(side.oauth, { redirectUri: REDIRECT, scopes: ['accounts'], openid: true });
    expect(bank.proofsSeen.get('pushed_authorization_request')).toBe(1);
    const { callbackUrl } = await consentHeadlessly(started.authorizeUrl, { ca: readFileSync(bank.caFile, 'utf8'), psuId: 'dpop-psu' });
    const { tokens, idToken } = await finishAuthorization(side.oauth, callbackUrl.searchParams, started.pending);
    expect(tokens.token_type).toBe('dpop');
    expect(idToken?.sub).toBe('dpop-psu');

    const userinfo = { method: 'GET', origin: bank.issuer, path: '/as/userinfo', headers: { accept: 'application/json', authorization: `Bearer ${tokens.access_token}` } };
    // The token alone (as a bearer) is refused: it is bound to the key.
    const plain = await side.transport.send(userinfo);
    expect(plain.status).toBe(401);
    expect(String(plain.headers['www-authenticate'])).toMatch(/^DPoP /);
    // Through the DPoP transport: Authorization: DPoP, a proof with ath, the resource's nonce fetched and used.
    const seen = bank.proofsSeen.get('userinfo') ?? 0;
    const dpop = senderConstrainedTransport(side.oauth.bank, side.transport);
    const answer = await dpop.send(userinfo);
    expect(answer.status).toBe(200);
    expect(JSON.parse(new TextDecoder().decode(answer.body))).toMatchObject({ sub: 'dpop-psu' });
    expect(bank.proofsSeen.get('userinfo')).toBe(seen + 1);

    // The refresh is DPoP-bound too (the same handle, the same key).
    const as = await side.oauth.metadata();
    const refreshed = await withDpopNonceRetry(side.oauth, async () =>
      oauth.processRefreshTokenResponse(as, side.oauth.client, await oauth.refreshTokenGrantRequest(as, side.oauth.client, side.oauth.clientAuth, tokens.refresh_token!, side.oauth.requestOptions)),
    );
    expect(refreshed.token_type).toBe('dpop');
    expect((await dpop.send({ ...userinfo, headers: { ...userinfo.headers, authorization: `Bearer ${refreshed.access_token}` } })).status).toBe(200);
  });

  it('signs proofs with the configured key (ES256, its public JWK in the header)', async () => {
    let proof: string | undefined;
    const spy = { ...side.transport, send: async (request: Parameters<typeof side.transport.send>[0]) => ((proof = request.headers.dpop), side.transport.send(request)) };
    await senderConstrainedTransport(side.oauth.bank, spy).send({ method: 'GET', origin: bank.issuer, path: '/as/userinfo', headers: { authorization: 'Bearer not-a-token' } });
    const header = decodeProtectedHeader(proof!);
    expect(header).toMatchObject({ alg: 'ES256', typ: 'dpop+jwt', jwk: { kty: 'EC', crv: 'P-256' } });
    expect(header.jwk).not.toHaveProperty('d');
  });
});

/** The DPoP bank's userinfo as a mounted API operation that acts for a PSU: what the gateway calls with the PSU's token. */
const userinfoManifest: ApiManifest = {
  bank: 'dpop',
  api: 'me',
  title: 'userinfo',
  version: '1',
  servers: [],
  specSha256: '0'.repeat(64),
  routes: [{ operationId: 'getUserinfo', method: 'get', path: '/userinfo', params: { path: [], query: [], header: [] }, scopes: ['accounts'], tokenKind: 'psu' }],
};

describe('a DPoP bank through the gateway (POST /connections, the callback, a bank call, a refresh after a restart)', () => {
  let bank: DpopBank;
  let storeDir: string;
  const key = 'dpop-gateway-dev-key-0123456789';
  const running: { close(): Promise<void> }[] = [];

  /** A gateway over the DPoP bank on a loopback socket, its connections in `storeDir` (they outlive the process). */
  async function startGateway(now?: () => number): Promise<string> {
    let port = 0;
    const gateway = await createGateway(
      {
        store: `file:${storeDir}`,
        banks: {
          dpop: {
            apis: { me: { manifest: userinfoManifest, baseUrl: `${bank.issuer}/as` } },
            authorizationServer: { kind: 'discovery', issuer: bank.issuer },
            client: { clientId: bank.clientId, auth: { method: 'private_key_jwt', keyId: bank.clientKeyId, key: { file: bank.assertionKeyFile } } },
            consent: { openid: true, scopes: ['accounts'] },
            authorizationRequest: { profile: 'fapi2', idTokenAlgorithm: 'ES256' },
            senderConstraint: { method: 'dpop', key: { file: bank.dpopKeyFile } },
            mtls: { cert: { file: bank.clientCertFile }, key: { file: bank.clientKeyFile }, ca: { file: bank.caFile } },
          },
        },
      },
      { publicUrl: () => `http://127.0.0.1:${port}`, log: silentLogger, env: { ...process.env, BANKGATE_DEV_KEY: key }, ...(now ? { now } : {}) },
    );
    const server = createServer(createNodeHandler(gateway));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    running.push({ close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await gateway.close();
    } });
    return `http://127.0.0.1:${port}`;
  }

  beforeAll(async () => {
    bank = await startDpopBank();
    storeDir = await mkdtemp(join(tmpdir(), 'bankgate-dpop-store-'));
  });
  afterAll(async () => {
    for (const one of running.splice(0)) await one.close();
    await bank?.close();
    await rm(storeDir, { recursive: true, force: true });
  });

  it('pushes the request with a proof, binds the tokens to the key, calls the bank with proofs, and refreshes after a restart', async () => {
    const url = await startGateway();
    const created = await fetch(`${url}/connections`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ bank: 'dpop', connectionId: 'd-1' }) });
    expect(created.status).toBe(201);
    const { authorizeUrl } = (await created.json()) as { authorizeUrl: string };
    expect([...new URL(authorizeUrl).searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    expect(bank.proofsSeen.get('pushed_authorization_request')).toBeGreaterThanOrEqual(1);

    const { callbackUrl } = await consentHeadlessly(authorizeUrl, { ca: readFileSync(bank.caFile, 'utf8'), psuId: 'dpop-psu' });
    const callback = await fetch(callbackUrl);
    expect(callback.status).toBe(200);
    expect(await callback.json()).toMatchObject({ connectionId: 'd-1', status: 'active' });

    const seen = bank.proofsSeen.get('userinfo') ?? 0;
    const me = await fetch(`${url}/dpop/me/userinfo`, { headers: { authorization: `Bearer ${key}`, 'x-connection-id': 'd-1' } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ sub: 'dpop-psu' });
    expect(bank.proofsSeen.get('userinfo')).toBe(seen + 1);

    // A new process (no DPoP nonce known yet) an hour later: the refresh is refused once with use_dpop_nonce, sent
    // again with the nonce, and the new DPoP-bound token serves the call.
    for (const one of running.splice(0)) await one.close();
    const tokensBefore = bank.proofsSeen.get('token') ?? 0;
    const later = await startGateway(() => Date.now() + 3_600_000);
    const again = await fetch(`${later}/dpop/me/userinfo`, { headers: { authorization: `Bearer ${key}`, 'x-connection-id': 'd-1' } });
    expect(again.status).toBe(200);
    expect(bank.proofsSeen.get('token')).toBe(tokensBefore + 1);
    expect(bank.nonceRefusals.get('token')).toBeGreaterThanOrEqual(1);
  });
});
