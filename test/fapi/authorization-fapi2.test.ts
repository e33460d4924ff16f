/**
 * The gateway's FAPI 2.0 client pieces (plugin/oauth/) against the UK-OB-like sandbox bank in FAPI 2.0 mode, whose
 * oidc-provider checks everything they send: `private_key_jwt` assertions (PS256, `kid`, `aud` = issuer), PAR (required),
 * PKCE S256, signed request objects inside the PAR, `iss` in the response, certificate-bound tokens.
 */
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authoriseAsUkobPsu } from '../../sandbox/ukob/headless-psu.js';
import { finishAuthorization, startAuthorization } from '../../plugin/oauth/authorization-request.js';
import { toOAuthError } from '../../plugin/tokens/oauth-error.js';
import { AIS_PERMISSIONS, call, clientCredentials, headers, intentClaims, startUkobTestSandbox, type UkobTestSandbox } from '../sandbox/ukob-helpers.js';
import { GATEWAY_REDIRECT, gatewayBankSide, ukobBankConfig, type GatewayBankSide } from './fapi-bank.js';

describe('FAPI 2.0 authorization requests (gateway side) against the ukob sandbox', () => {
  let t: UkobTestSandbox;
  let pkjwt: GatewayBankSide;
  const opened: GatewayBankSide[] = [];

  beforeAll(async () => {
    t = await startUkobTestSandbox('2.0');
    pkjwt = await gatewayBankSide(ukobBankConfig(t.sandbox.file));
    opened.push(pkjwt);
  });
  afterAll(async () => {
    await Promise.all(opened.map((side) => side.close()));
    await t?.close();
  });

  async function side(config: Parameters<typeof ukobBankConfig>[1]): Promise<GatewayBankSide> {
    const built = await gatewayBankSide(ukobBankConfig(t.sandbox.file, config));
    opened.push(built);
    return built;
  }

  async function accountAccessIntent(): Promise<string> {
    const token = await clientCredentials(t, 'accounts');
    const response = await call(t, `${t.bank.apis.aisp}/account-access-consents`, { method: 'POST', token, body: JSON.stringify({ Data: { Permissions: AIS_PERMISSIONS }, Risk: {} }), headers: headers() });
    expect(response.status).toBe(201);
    return ((await response.json()) as { Data: { ConsentId: string } }).Data.ConsentId;
  }

  async function authorise(bankSide: GatewayBankSide, intentId: string) {
    const started = await startAuthorization(bankSide.oauth, { redirectUri: GATEWAY_REDIRECT, scopes: ['accounts'], openid: true, params: { claims: intentClaims(intentId) } });
    const psu = await authoriseAsUkobPsu(started.authorizeUrl, { ca: t.sandbox.ca, psuId: 'ukob-psu-1' });
    return { started, psu };
  }

  it('gets a client-credentials token with a private_key_jwt assertion oidc-provider verifies, bound to the certificate', async () => {
    const { oauth: bankSide } = pkjwt;
    const as = await bankSide.metadata();
    const response = await oauth.clientCredentialsGrantRequest(as, bankSide.client, bankSide.clientAuth, { scope: 'accounts' }, bankSide.requestOptions);
    const tokens = await oauth.processClientCredentialsResponse(as, bankSide.client, response);
    expect(tokens.token_type).toBe('bearer');
    // Certificate-bound: the intent endpoint accepts it over the gateway's certificate, refuses it over another.
    const body = JSON.stringify({ Data: { Permissions: AIS_PERMISSIONS }, Risk: {} });
    const created = await call(t, `${t.bank.apis.aisp}/account-access-consents`, { method: 'POST', token: tokens.access_token, body, headers: headers() });
    expect(created.status).toBe(201);
    const elsewhere = await call(t, `${t.bank.apis.aisp}/account-access-consents`, { method: 'POST', token: tokens.access_token, body, headers: headers(), agent: t.sandbox.agents.sg });
    expect(elsewhere.status).toBe(401);
  });

  it('pushes the request (PAR), sends the PSU with client_id and request_uri only, and gets tokens carrying the intent', async () => {
    const intentId = await accountAccessIntent();
    const { started, psu } = await authorise(pkjwt, intentId);
    const url = new URL(started.authorizeUrl);
    expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    expect(url.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);
    expect(psu.params.get('iss')).toBe(t.bank.authorizationServer.issuer);

    const { tokens, idToken } = await finishAuthorization(pkjwt.oauth, psu.params, started.pending);
    expect(idToken?.openbanking_intent_id).toBe(intentId);
    expect(idToken?.sub).toBe('ukob-psu-1');
    expect(tokens.refresh_token).toBeTruthy();
    const accounts = await call(t, `${t.bank.apis.aisp}/accounts`, { token: tokens.access_token, headers: headers() });
    expect(accounts.status).toBe(200);
    const elsewhere = await call(t, `${t.bank.apis.aisp}/accounts`, { token: tokens.access_token, headers: headers(), agent: t.sandbox.agents.sg });
    expect(elsewhere.status).toBe(401);
  });

  it('signs the pushed request as a PS256 request object when configured', async () => {
    const signed = await side({ authorizationRequest: { profile: 'fapi2', requestObject: true } });
    const intentId = await accountAccessIntent();
    const { started, psu } = await authorise(signed, intentId);
    const { idToken } = await finishAuthorization(signed.oauth, psu.params, started.pending);
    expect(idToken?.openbanking_intent_id).toBe(intentId);
  });

  it('works with tls_client_auth as the client authentication', async () => {
    const mtls = await side({ clientAuth: 'tls_client_auth' });
    // The intent must be this registration's own.
    const as = await mtls.oauth.metadata();
    const cc = await oauth.processClientCredentialsResponse(as, mtls.oauth.client, await oauth.clientCredentialsGrantRequest(as, mtls.oauth.client, mtls.oauth.clientAuth, { scope: 'accounts' }, mtls.oauth.requestOptions));
    const created = await call(t, `${t.bank.apis.aisp}/account-access-consents`, { method: 'POST', token: cc.access_token, body: JSON.stringify({ Data: { Permissions: AIS_PERMISSIONS }, Risk: {} }), headers: headers() });
    const intentId = ((await created.json()) as { Data: { ConsentId: string } }).Data.ConsentId;
    const { started, psu } = await authorise(mtls, intentId);
    const { idToken } = await finishAuthorization(mtls.oauth, psu.params, started.pending);
    expect(idToken?.openbanking_intent_id).toBe(intentId);
  });

  it('is refused by the bank when it does not push (PAR required), and when the assertion is signed with an unregistered kid', async () => {
    const plain = await side({ authorizationRequest: { profile: 'oauth2' } });
    const intentId = await accountAccessIntent();
    const { started, psu } = await authorise(plain, intentId);
    expect(new URL(started.authorizeUrl).searchParams.get('claims')).toBe(intentClaims(intentId));
    expect(psu.params.get('error')).toBe('invalid_request');
    const refused = await finishAuthorization(plain.oauth, psu.params, started.pending).catch((error: unknown) => toOAuthError('ukob', 'authorization', error));
    expect(refused).toMatchObject({ code: 'consent_failed', extra: { oauthError: 'invalid_request' } });

    const config = ukobBankConfig(t.sandbox.file);
    const wrongKid = await gatewayBankSide({ ...config, client: { ...config.client, auth: { ...(config.client.auth as object), keyId: 'not-registered' } as never } });
    opened.push(wrongKid);
    const error = await startAuthorization(wrongKid.oauth, { redirectUri: GATEWAY_REDIRECT, scopes: ['accounts'], openid: true, params: { claims: intentClaims(intentId) } }).catch((e: unknown) => toOAuthError('ukob', 'pushed authorization request', e));
    expect(error).toMatchObject({ code: 'bank_auth_error', extra: { oauthError: 'invalid_client' } });
  });

  it('requires iss in the response and the PKCE verifier the request was made with', async () => {
    const intentId = await accountAccessIntent();
    const { started, psu } = await authorise(pkjwt, intentId);
    const withoutIss = new URLSearchParams(psu.params);
    withoutIss.delete('iss');
    await expect(finishAuthorization(pkjwt.oauth, withoutIss, started.pending)).rejects.toMatchObject({ code: 'OAUTH_INVALID_RESPONSE', message: expect.stringContaining('"iss"') });
    const otherIss = new URLSearchParams(psu.params);
    otherIss.set('iss', 'https://elsewhere.example');
    await expect(finishAuthorization(pkjwt.oauth, otherIss, started.pending)).rejects.toMatchObject({ code: 'OAUTH_INVALID_RESPONSE', message: expect.stringContaining('unexpected "iss"') });
    // oidc-provider checks the verifier against the pushed challenge.
    const wrongVerifier = await finishAuthorization(pkjwt.oauth, psu.params, { ...started.pending, codeVerifier: oauth.generateRandomCodeVerifier() }).catch((e: unknown) => toOAuthError('ukob', 'code exchange', e));
    expect(wrongVerifier).toMatchObject({ code: 'bank_auth_error', extra: { oauthError: 'invalid_grant' } });
    // A state the gateway did not issue.
    await expect(finishAuthorization(pkjwt.oauth, psu.params, { ...started.pending, state: 'another' })).rejects.toMatchObject({ code: 'OAUTH_INVALID_RESPONSE' });
  });
});
