import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { decodeJwt, decodeProtectedHeader, importPKCS8, SignJWT, type CryptoKey } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consentHeadlessly } from '../../sandbox/headless-consent.js';
import { authoriseAsUkobPsu } from '../../sandbox/ukob/headless-psu.js';
import {
  AIS_PERMISSIONS,
  authoriseFapi2,
  call,
  clientCredentials,
  headers,
  intentClaims,
  pushAuthorizationRequest,
  startUkobTestSandbox,
  UKOB_REDIRECT,
  type UkobTestSandbox,
} from './ukob-helpers.js';

interface OAuthError {
  error: string;
  error_description: string;
}

describe('UK-OB-like sandbox bank: FAPI 2.0 authorization server', () => {
  let t: UkobTestSandbox;

  beforeAll(async () => {
    t = await startUkobTestSandbox('2.0');
  });
  afterAll(async () => {
    await t?.close();
  });

  async function accountAccessIntent(client: 'pkjwt' | 'mtls' = 'pkjwt', permissions = AIS_PERMISSIONS): Promise<string> {
    const token = await clientCredentials(t, 'accounts', client);
    const response = await call(t, `${t.bank.apis.aisp}/account-access-consents`, { method: 'POST', token, body: JSON.stringify({ Data: { Permissions: permissions }, Risk: {} }), headers: headers() });
    expect(response.status).toBe(201);
    return ((await response.json()) as { Data: { ConsentId: string } }).Data.ConsentId;
  }

  async function parError(scope: string, claims: string): Promise<OAuthError & { status: number }> {
    const { response } = await pushAuthorizationRequest(t, scope, claims);
    return { status: response.status, ...((await response.json()) as OAuthError) };
  }

  it('publishes FAPI 2.0 metadata: PAR required, PS256 only, private_key_jwt and tls_client_auth, certificate-bound tokens on mTLS aliases', () => {
    const { as, bank } = t;
    expect(bank.fapiProfile).toBe('2.0');
    expect(as.require_pushed_authorization_requests).toBe(true);
    expect(as.response_types_supported).toEqual(['code']);
    expect(as.code_challenge_methods_supported).toEqual(['S256']);
    expect(as.authorization_response_iss_parameter_supported).toBe(true);
    expect(as.token_endpoint_auth_methods_supported).toEqual(['private_key_jwt', 'tls_client_auth']);
    expect(as.token_endpoint_auth_signing_alg_values_supported).toEqual(['PS256']);
    expect(as.request_object_signing_alg_values_supported).toEqual(['PS256']);
    expect(as.id_token_signing_alg_values_supported).toEqual(['PS256']);
    expect(as.tls_client_certificate_bound_access_tokens).toBe(true);
    expect(as.claims_parameter_supported).toBe(true);
    expect(as.claims_supported).toContain('openbanking_intent_id');
    expect(as.acr_values_supported).toEqual(['urn:openbanking:psd2:sca', 'urn:openbanking:psd2:ca']);
    expect(as.dpop_signing_alg_values_supported).toBeUndefined();
    expect(as.mtls_endpoint_aliases).toMatchObject({
      token_endpoint: bank.authorizationServer.mtlsTokenEndpoint,
      pushed_authorization_request_endpoint: bank.authorizationServer.mtlsParEndpoint,
    });
    expect(new URL(bank.authorizationServer.mtlsTokenEndpoint).port).not.toBe(new URL(as.issuer).port);
  });

  it('runs an AIS authorisation: intent → PAR → authorize → PSU → code (iss) → certificate-bound tokens carrying the intent', async () => {
    const intentId = await accountAccessIntent();
    const { tokens, callbackUrl, consent } = await authoriseFapi2(t, intentId, 'openid accounts');
    expect(consent.steps.map((s) => s.status)).toEqual([303, 303, 303]);
    expect(callbackUrl.searchParams.get('iss')).toBe(t.bank.authorizationServer.issuer);

    const idToken = oauth.getValidatedIdTokenClaims(tokens)!;
    expect(idToken.openbanking_intent_id).toBe(intentId);
    expect(idToken.acr).toBe('urn:openbanking:psd2:sca');
    expect(idToken.sub).toBe('ukob-psu-1');
    expect(decodeProtectedHeader(tokens.id_token!).alg).toBe('PS256');
    expect(tokens.refresh_token).toBeTruthy();
    expect(tokens.scope).toBe('openid accounts');

    // The access token is bound to the TPP's transport certificate: userinfo (mTLS alias) answers with the intent.
    const userinfo = await oauth.userInfoRequest(t.as, t.client, tokens.access_token, { [oauth.customFetch]: t.tppFetch });
    expect(await oauth.processUserInfoResponse(t.as, t.client, 'ukob-psu-1', userinfo)).toMatchObject({ openbanking_intent_id: intentId });
    // With another certificate of the same CA it is refused.
    const elsewhere = await oauth.userInfoRequest(t.as, t.client, tokens.access_token, { [oauth.customFetch]: t.sandbox.customFetch(t.sandbox.agents.seb) });
    expect(elsewhere.status).toBe(401);

    const status = await call(t, `${t.bank.apis.aisp}/account-access-consents/${intentId}`, { token: await clientCredentials(t, 'accounts'), headers: headers() });
    expect(((await status.json()) as { Data: { Status: string } }).Data.Status).toBe('AUTH');
  });

  it('accepts the PAR as a PS256 signed request object', async () => {
    const intentId = await accountAccessIntent();
    const { tokens } = await authoriseFapi2(t, intentId, 'openid accounts', { requestObject: true });
    expect(oauth.getValidatedIdTokenClaims(tokens)!.openbanking_intent_id).toBe(intentId);
  });

  it('refuses an authorization request that does not go through PAR', async () => {
    const intentId = await accountAccessIntent();
    const url = new URL(t.as.authorization_endpoint!);
    url.search = new URLSearchParams({
      client_id: t.client.client_id,
      response_type: 'code',
      redirect_uri: UKOB_REDIRECT,
      scope: 'openid accounts',
      state: 'no-par',
      claims: intentClaims(intentId),
      code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()),
      code_challenge_method: 'S256',
    }).toString();
    const { callbackUrl } = await consentHeadlessly(url, { ca: t.sandbox.ca, psuId: 'ukob-psu-1' });
    expect(callbackUrl.searchParams.get('error')).toBe('invalid_request');
    expect(callbackUrl.searchParams.get('error_description')).toBe('Pushed Authorization Request must be used');
    expect(callbackUrl.searchParams.get('iss')).toBe(t.bank.authorizationServer.issuer);
  });

  it('refuses a PAR without PKCE', async () => {
    const intentId = await accountAccessIntent();
    const response = await oauth.pushedAuthorizationRequest(t.as, t.client, t.auth, { response_type: 'code', redirect_uri: UKOB_REDIRECT, scope: 'openid accounts', claims: intentClaims(intentId) }, { [oauth.customFetch]: t.tppFetch });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('PKCE') });
  });

  it('refuses a client assertion whose aud is not the issuer, and a request object not signed with PS256', async () => {
    const wrongAudience = oauth.PrivateKeyJwt({ key: t.signingKey, kid: t.bank.signing.keyId }, {
      [oauth.modifyAssertion]: (_header, payload) => {
        payload.aud = t.bank.authorizationServer.mtlsTokenEndpoint;
      },
    });
    const token = await oauth.clientCredentialsGrantRequest(t.as, t.client, wrongAudience, { scope: 'accounts' }, { [oauth.customFetch]: t.tppFetch });
    expect(token.status).toBe(401);
    expect(await token.json()).toMatchObject({ error: 'invalid_client' });

    const intentId = await accountAccessIntent();
    const rs256 = (await importPKCS8(await readFile(t.bank.signing.keyFile, 'utf8'), 'RS256')) as CryptoKey;
    const request = await new SignJWT({
      client_id: t.client.client_id,
      response_type: 'code',
      redirect_uri: UKOB_REDIRECT,
      scope: 'openid accounts',
      claims: intentClaims(intentId),
      code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()),
      code_challenge_method: 'S256',
    })
      .setProtectedHeader({ alg: 'RS256', kid: t.bank.signing.keyId })
      .setIssuer(t.client.client_id)
      .setAudience(t.as.issuer)
      .setIssuedAt()
      .setNotBefore('0s')
      .setExpirationTime('5m')
      .sign(rs256);
    const par = await oauth.pushedAuthorizationRequest(t.as, t.client, t.auth, { request }, { [oauth.customFetch]: t.tppFetch });
    expect(par.status).toBe(400);
    expect(await par.json()).toMatchObject({ error: 'invalid_request_object' });
  });

  it('issues no token without the transport certificate (certificate-bound tokens only)', async () => {
    const response = await oauth.clientCredentialsGrantRequest(t.as, { ...t.client, use_mtls_endpoint_aliases: false }, t.auth, { scope: 'accounts' }, {
      [oauth.customFetch]: t.sandbox.customFetch(t.sandbox.agents.none),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('authenticates the tls_client_auth registration by its certificate and binds its tokens', async () => {
    const token = await clientCredentials(t, 'accounts', 'mtls');
    const response = await call(t, `${t.bank.apis.aisp}/account-access-consents`, { method: 'POST', token, body: JSON.stringify({ Data: { Permissions: ['ReadAccountsBasic'] }, Risk: {} }) });
    expect(response.status).toBe(201);
    const wrong = await oauth.clientCredentialsGrantRequest(t.as, t.mtlsClient, oauth.TlsClientAuth(), { scope: 'accounts' }, { [oauth.customFetch]: t.sandbox.customFetch(t.sandbox.agents.sg) });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: 'invalid_client' });
  });

  describe('binds every authorization request to an AWAU intent of the client', () => {
    it('refuses an unknown intent at PAR', async () => {
      expect(await parError('openid accounts', intentClaims(`aac-${randomUUID()}`))).toMatchObject({ status: 400, error: 'invalid_request', error_description: expect.stringContaining('is not an intent of this client') });
    });

    it("refuses another client's intent with the same answer as an unknown one", async () => {
      const other = await accountAccessIntent('mtls');
      expect(await parError('openid accounts', intentClaims(other))).toMatchObject({ status: 400, error: 'invalid_request', error_description: `openbanking_intent_id ${other} is not an intent of this client` });
    });

    it('refuses an intent that is not awaiting authorisation', async () => {
      const intentId = await accountAccessIntent();
      await authoriseFapi2(t, intentId, 'openid accounts');
      expect(await parError('openid accounts', intentClaims(intentId))).toMatchObject({ status: 400, error: 'invalid_request', error_description: expect.stringContaining('is AUTH, not AWAU') });
    });

    it('refuses a request without the claim, with the claim not essential, or with the scope of another kind of intent', async () => {
      const intentId = await accountAccessIntent();
      expect(await parError('openid accounts', JSON.stringify({ id_token: { acr: { essential: true } } }))).toMatchObject({ status: 400, error_description: expect.stringContaining('essential claim') });
      expect(await parError('openid accounts', JSON.stringify({ id_token: { openbanking_intent_id: { value: intentId } } }))).toMatchObject({ status: 400, error_description: expect.stringContaining('"essential": true') });
      for (const scope of ['openid payments', 'openid accounts payments']) {
        expect(await parError(scope, intentClaims(intentId))).toMatchObject({ status: 400, error_description: expect.stringContaining('scope "openid accounts" and nothing else') });
      }
      // Without openid, oidc-provider refuses the claims parameter itself.
      expect(await parError('accounts', intentClaims(intentId))).toMatchObject({ status: 400, error: 'invalid_request', error_description: 'openid scope must be requested when using the claims parameter' });
      const asParameter = await oauth.pushedAuthorizationRequest(t.as, t.client, t.auth, {
        response_type: 'code',
        redirect_uri: UKOB_REDIRECT,
        scope: 'openid accounts',
        claims: intentClaims(intentId),
        openbanking_intent_id: intentId,
        code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()),
        code_challenge_method: 'S256',
      }, { [oauth.customFetch]: t.tppFetch });
      expect(await asParameter.json()).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('is not a parameter') });
      const { response } = await pushAuthorizationRequest(t, 'openid accounts', intentClaims(intentId));
      expect(response.status).toBe(201);
    });

    it('looks the intent up again when the PSU approves: one deleted meanwhile ends in access_denied', async () => {
      const intentId = await accountAccessIntent();
      const { response, state } = await pushAuthorizationRequest(t, 'openid accounts', intentClaims(intentId));
      const par = await oauth.processPushedAuthorizationResponse(t.as, t.client, response);
      const url = new URL(t.as.authorization_endpoint!);
      url.search = new URLSearchParams({ client_id: t.client.client_id, request_uri: par.request_uri }).toString();
      // The PSU opens the bank's page (the interaction cookies set); before they approve, the TPP deletes the intent.
      const opened = await t.sandbox.fetch(t.sandbox.agents.none, url, { redirect: 'manual' });
      expect(opened.status).toBe(303);
      const cookie = opened.headers.getSetCookie().map((line) => line.split(';')[0]).join('; ');
      const interaction = new URL(opened.headers.get('location')!, url);
      const page = await t.sandbox.fetch(t.sandbox.agents.none, interaction, { headers: { cookie } });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain(`Account access <code>${intentId}</code>`);
      const deleted = await call(t, `${t.bank.apis.aisp}/account-access-consents/${intentId}`, { method: 'DELETE', token: await clientCredentials(t, 'accounts') });
      expect(deleted.status).toBe(204);
      // The page, reloaded, sends the PSU back to the TPP at once.
      const reloaded = await t.sandbox.fetch(t.sandbox.agents.none, interaction, { redirect: 'manual', headers: { cookie } });
      expect(reloaded.status).toBe(303);
      expect(reloaded.headers.get('location')).toContain('/as/authorize/');
      const approved = await t.sandbox.fetch(t.sandbox.agents.none, interaction, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ psu_id: 'ukob-psu-1' }).toString(),
      });
      expect(approved.status).toBe(303);
      const resumed = await t.sandbox.fetch(t.sandbox.agents.none, new URL(approved.headers.get('location')!, url), { redirect: 'manual', headers: { cookie } });
      const callbackUrl = new URL(resumed.headers.get('location')!);
      expect(() => oauth.validateAuthResponse(t.as, t.client, callbackUrl, state)).toThrow(
        expect.objectContaining({ error: 'access_denied', error_description: expect.stringContaining('is CANC, not AWAU') }),
      );
    });

    it('ends in access_denied and marks the intent RJCT when the PSU rejects it', async () => {
      const intentId = await accountAccessIntent();
      const { response, state } = await pushAuthorizationRequest(t, 'openid accounts', intentClaims(intentId));
      const par = await oauth.processPushedAuthorizationResponse(t.as, t.client, response);
      const url = new URL(t.as.authorization_endpoint!);
      url.search = new URLSearchParams({ client_id: t.client.client_id, request_uri: par.request_uri }).toString();
      const { callbackUrl } = await authoriseAsUkobPsu(url, { ca: t.sandbox.ca, psuId: 'ukob-psu-1', decision: 'reject' });
      expect(() => oauth.validateAuthResponse(t.as, t.client, callbackUrl, state)).toThrow(expect.objectContaining({ error: 'access_denied' }));
      const status = await call(t, `${t.bank.apis.aisp}/account-access-consents/${intentId}`, { token: await clientCredentials(t, 'accounts') });
      expect(((await status.json()) as { Data: { Status: string } }).Data.Status).toBe('RJCT');
    });
  });

  it('puts the intent into the tokens of a refresh too', async () => {
    const intentId = await accountAccessIntent();
    const { tokens } = await authoriseFapi2(t, intentId, 'openid accounts');
    const refreshed = await oauth.processRefreshTokenResponse(
      t.as,
      t.client,
      await oauth.refreshTokenGrantRequest(t.as, t.client, t.auth, tokens.refresh_token!, { [oauth.customFetch]: t.tppFetch }),
    );
    expect(decodeJwt(refreshed.id_token!).openbanking_intent_id).toBe(intentId);
    const accounts = await call(t, `${t.bank.apis.aisp}/accounts`, { token: refreshed.access_token });
    expect(accounts.status).toBe(200);
  });
});
