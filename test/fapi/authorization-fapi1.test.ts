/**
 * The gateway's FAPI 1.0 Advanced client pieces against the UK-OB-like sandbox bank in its FAPI 1 Advanced
 * configuration: a PS256 request object (required by the bank; by value or pushed), `response_type=code id_token`, the
 * id_token checked as a detached signature (`c_hash`, `s_hash`, nonce), `private_key_jwt`, certificate-bound tokens.
 */
import * as oauth from 'oauth4webapi';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authoriseAsUkobPsu } from '../../sandbox/ukob/headless-psu.js';
import { finishAuthorization, startAuthorization } from '../../plugin/oauth/authorization-request.js';
import { toOAuthError } from '../../plugin/tokens/oauth-error.js';
import { AIS_PERMISSIONS, call, clientCredentials, headers, intentClaims, startUkobTestSandbox, type UkobTestSandbox } from '../sandbox/ukob-helpers.js';
import { GATEWAY_REDIRECT, gatewayBankSide, ukobBankConfig, type GatewayBankSide } from './fapi-bank.js';

describe('FAPI 1.0 Advanced authorization requests (gateway side) against the ukob sandbox', () => {
  let t: UkobTestSandbox;
  let byValue: GatewayBankSide;
  const opened: GatewayBankSide[] = [];

  beforeAll(async () => {
    t = await startUkobTestSandbox('1.0');
    byValue = await gatewayBankSide(ukobBankConfig(t.sandbox.file));
    opened.push(byValue);
  });
  afterAll(async () => {
    await Promise.all(opened.map((side) => side.close()));
    await t?.close();
  });

  async function accountAccessIntent(): Promise<string> {
    const token = await clientCredentials(t, 'accounts');
    const response = await call(t, `${t.bank.apis.aisp}/account-access-consents`, { method: 'POST', token, body: JSON.stringify({ Data: { Permissions: AIS_PERMISSIONS }, Risk: {} }), headers: headers() });
    expect(response.status).toBe(201);
    return ((await response.json()) as { Data: { ConsentId: string } }).Data.ConsentId;
  }

  async function authorise(bankSide: GatewayBankSide, intentId: string) {
    const started = await startAuthorization(bankSide.oauth, { redirectUri: GATEWAY_REDIRECT, scopes: ['accounts'], openid: false, params: { claims: intentClaims(intentId) } });
    const psu = await authoriseAsUkobPsu(started.authorizeUrl, { ca: t.sandbox.ca, psuId: 'ukob-psu-1' });
    return { started, psu };
  }

  it('sends a signed request object by value, gets code and id_token in the fragment, checks the detached signature and gets tokens', async () => {
    const intentId = await accountAccessIntent();
    const { started, psu } = await authorise(byValue, intentId);
    const url = new URL(started.authorizeUrl);
    expect(url.searchParams.get('response_type')).toBe('code id_token');
    expect(url.searchParams.get('scope')).toBe('openid accounts');
    const requestObject = decodeJwt(url.searchParams.get('request')!);
    expect(requestObject).toMatchObject({ aud: t.bank.authorizationServer.issuer, iss: t.bank.client.clientId, response_type: 'code id_token', nonce: started.pending.nonce, state: started.pending.state, code_challenge_method: 'S256' });
    expect(requestObject.claims).toEqual(JSON.parse(intentClaims(intentId)));
    // Hybrid: the answer is in the fragment, with the id_token as a detached signature of code and state.
    expect(psu.callbackUrl.hash).toContain('id_token=');
    const frontIdToken = decodeJwt(psu.params.get('id_token')!);
    expect(frontIdToken).toMatchObject({ nonce: started.pending.nonce, c_hash: expect.any(String), s_hash: expect.any(String) });

    const { tokens, idToken } = await finishAuthorization(byValue.oauth, psu.params, started.pending);
    expect(idToken).toMatchObject({ openbanking_intent_id: intentId, sub: 'ukob-psu-1', nonce: started.pending.nonce });
    const accounts = await call(t, `${t.bank.apis.aisp}/accounts`, { token: tokens.access_token, headers: headers() });
    expect(accounts.status).toBe(200);
  });

  it('pushes the request object (PAR) when configured, with PKCE', async () => {
    const pushed = await gatewayBankSide(ukobBankConfig(t.sandbox.file, { authorizationRequest: { profile: 'fapi1-advanced', par: true } }));
    opened.push(pushed);
    const intentId = await accountAccessIntent();
    const { started, psu } = await authorise(pushed, intentId);
    expect([...new URL(started.authorizeUrl).searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    const { idToken } = await finishAuthorization(pushed.oauth, psu.params, started.pending);
    expect(idToken?.openbanking_intent_id).toBe(intentId);
  });

  it('refuses a response whose code or state the id_token does not sign (c_hash, s_hash), and a replayed nonce', async () => {
    const intentId = await accountAccessIntent();
    const { started, psu } = await authorise(byValue, intentId);
    const otherCode = new URLSearchParams(psu.params);
    otherCode.set('code', `${psu.params.get('code')}x`);
    await expect(finishAuthorization(byValue.oauth, otherCode, started.pending)).rejects.toMatchObject({ code: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED', message: expect.stringContaining('c_hash') });
    const otherState = new URLSearchParams(psu.params);
    otherState.set('state', 'forged');
    await expect(finishAuthorization(byValue.oauth, otherState, { ...started.pending, state: 'forged' })).rejects.toMatchObject({ code: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED', message: expect.stringContaining('s_hash') });
    await expect(finishAuthorization(byValue.oauth, psu.params, { ...started.pending, nonce: oauth.generateRandomNonce() })).rejects.toMatchObject({ code: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED', message: expect.stringContaining('nonce') });
    const { tokens } = await finishAuthorization(byValue.oauth, psu.params, started.pending);
    expect(tokens.access_token).toBeTruthy();
  });

  it('is refused by the bank without a request object (FAPI 2.0 style plain PAR)', async () => {
    const fapi2Style = await gatewayBankSide(ukobBankConfig(t.sandbox.file, { authorizationRequest: { profile: 'oauth2', par: true } }));
    opened.push(fapi2Style);
    const intentId = await accountAccessIntent();
    const error = await startAuthorization(fapi2Style.oauth, { redirectUri: GATEWAY_REDIRECT, scopes: ['accounts'], openid: true, params: { claims: intentClaims(intentId) } }).catch((e: unknown) => toOAuthError('ukob', 'pushed authorization request', e));
    expect(error).toMatchObject({ code: 'bank_auth_error', extra: { oauthError: 'invalid_request' } });
    expect((error as Error).message).toContain('Request Object');
  });
});
