import { decodeJwt } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consentHeadlessly } from '../../sandbox/headless-consent.js';
import {
  AIS_PERMISSIONS,
  authoriseFapi1,
  call,
  clientCredentials,
  domesticPaymentBody,
  domesticPaymentConsentBody,
  headers,
  intentClaims,
  postSigned,
  startUkobTestSandbox,
  UKOB_REDIRECT,
  type UkobTestSandbox,
} from './ukob-helpers.js';

describe('UK-OB-like sandbox bank: FAPI 1.0 Advanced configuration', () => {
  let t: UkobTestSandbox;

  beforeAll(async () => {
    t = await startUkobTestSandbox('1.0');
  });
  afterAll(async () => {
    await t?.close();
  });

  async function accountAccessIntent(): Promise<string> {
    const response = await call(t, `${t.bank.apis.aisp}/account-access-consents`, {
      method: 'POST',
      token: await clientCredentials(t, 'accounts'),
      body: JSON.stringify({ Data: { Permissions: AIS_PERMISSIONS }, Risk: {} }),
      headers: headers(),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { Data: { ConsentId: string } }).Data.ConsentId;
  }

  it('publishes the hybrid flow with signed request objects required', () => {
    expect(t.bank.fapiProfile).toBe('1.0');
    expect(t.as.response_types_supported).toEqual(['code id_token']);
    expect(t.as.require_signed_request_object).toBe(true);
    expect(t.as.require_pushed_authorization_requests).toBeUndefined();
    expect(t.as.request_object_signing_alg_values_supported).toEqual(['PS256']);
    expect(t.as.tls_client_certificate_bound_access_tokens).toBe(true);
  });

  it('runs the hybrid flow with a request object by value: the id_token a detached signature (c_hash, s_hash), then accounts', async () => {
    const intentId = await accountAccessIntent();
    const { tokens, callbackUrl } = await authoriseFapi1(t, intentId, 'openid accounts');
    // The front-channel answer is in the fragment, with an id_token carrying c_hash and s_hash.
    const fragment = new URLSearchParams(callbackUrl.hash.slice(1));
    expect(fragment.get('code')).toBeTruthy();
    const frontIdToken = decodeJwt(fragment.get('id_token')!);
    expect(frontIdToken).toMatchObject({ c_hash: expect.any(String), s_hash: expect.any(String), openbanking_intent_id: intentId, acr: 'urn:openbanking:psd2:sca' });
    expect(oauth.getValidatedIdTokenClaims(tokens)!.openbanking_intent_id).toBe(intentId);

    const accounts = await call(t, `${t.bank.apis.aisp}/accounts`, { token: tokens.access_token });
    expect(accounts.status).toBe(200);
    expect(((await accounts.json()) as { Data: { Account: unknown[] } }).Data.Account).toHaveLength(2);
  });

  it('also takes the request object through PAR (with PKCE), and a payment through to its final status', async () => {
    const clientToken = await clientCredentials(t, 'payments');
    const consentBody = domesticPaymentConsentBody();
    const consent = (await (await postSigned(t, `${t.bank.apis.pisp}/domestic-payment-consents`, clientToken, consentBody)).json()) as { Data: { ConsentId: string } };
    const { tokens } = await authoriseFapi1(t, consent.Data.ConsentId, 'openid payments', { viaPar: true });
    const payment = await postSigned(t, `${t.bank.apis.pisp}/domestic-payments`, tokens.access_token, domesticPaymentBody(consent.Data.ConsentId, consentBody));
    expect(payment.status).toBe(201);
    const id = ((await payment.json()) as { Data: { DomesticPaymentId: string } }).Data.DomesticPaymentId;
    let status = '';
    for (let read = 0; read < 3 && status !== 'ACSC'; read++) {
      status = ((await (await call(t, `${t.bank.apis.pisp}/domestic-payments/${id}`, { token: clientToken })).json()) as { Data: { Status: string } }).Data.Status;
    }
    expect(status).toBe('ACSC');
  });

  it('refuses an authorization request without a signed request object, and the plain code flow', async () => {
    const intentId = await accountAccessIntent();
    const nonce = oauth.generateRandomNonce();
    const plain = new URL(t.as.authorization_endpoint!);
    plain.search = new URLSearchParams({ client_id: t.client.client_id, response_type: 'code id_token', redirect_uri: UKOB_REDIRECT, scope: 'openid accounts', state: 's1', nonce, claims: intentClaims(intentId) }).toString();
    const unsigned = await consentHeadlessly(plain, { ca: t.sandbox.ca, psuId: 'ukob-psu-1' });
    const error = new URLSearchParams(unsigned.callbackUrl.hash.slice(1));
    expect(error.get('error')).toBe('invalid_request');
    expect(error.get('error_description')).toContain('Request Object');

    const request = await oauth.issueRequestObject(t.as, t.client, { response_type: 'code', redirect_uri: UKOB_REDIRECT, scope: 'openid accounts', state: 's2', nonce, claims: intentClaims(intentId) }, { key: t.signingKey, kid: t.bank.signing.keyId });
    const code = new URL(t.as.authorization_endpoint!);
    code.search = new URLSearchParams({ client_id: t.client.client_id, response_type: 'code', scope: 'openid accounts', request }).toString();
    const codeOnly = await consentHeadlessly(code, { ca: t.sandbox.ca, psuId: 'ukob-psu-1' });
    // FAPI 1 Advanced allows `code` only with JARM, which this bank does not offer.
    expect(codeOnly.callbackUrl.searchParams.get('error')).toBe('invalid_request');
    expect(codeOnly.callbackUrl.searchParams.get('error_description')).toBe('requested response_mode is not allowed for this client or request');
  });
});
