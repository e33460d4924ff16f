/**
 * The sandbox's VRP as a TPP sees it without the gateway (the sandbox tests' own TPP code), in both FAPI profiles: the
 * consent authorised through the intent-bound authorization (scope `payments`), a refresh token for the mandate (none
 * for a single domestic payment), answers in the spec's shape, a tampered `x-jws-signature` refused (U015) on the
 * consent and on a payment, a payment that differs from its consent refused (U008), and a VRP consent id unknown to
 * the domestic payment consent endpoint (U011: what lets the gateway tell the two `payments` kinds apart).
 */
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertSpecResponse,
  authoriseFapi1,
  authoriseFapi2,
  call,
  clientCredentials,
  domesticPaymentConsentBody,
  postSigned,
  signJws,
  startUkobTestSandbox,
  type UkobTestSandbox,
} from '../sandbox/ukob-helpers.js';
import { vrpConsentBody, vrpPaymentBody } from './vrp-bodies.js';

interface ObError {
  Errors: { ErrorCode: string; Path?: string }[];
}

describe.each(['2.0', '1.0'] as const)('the ukob sandbox serves domestic VRP (FAPI %s)', (profile) => {
  let t: UkobTestSandbox;
  let token: string;
  let vrp: string;
  beforeAll(async () => {
    t = await startUkobTestSandbox(profile);
    token = await clientCredentials(t, 'payments');
    vrp = t.bank.apis.vrp!;
  });
  afterAll(() => t?.close());

  const authorise = (intentId: string) => (profile === '2.0' ? authoriseFapi2 : authoriseFapi1)(t, intentId, 'openid payments', { debtorAccount: 'acc-ukob1-current' });

  async function authorisedConsent(body = vrpConsentBody()) {
    const created = await postSigned(t, `${vrp}/domestic-vrp-consents`, token, body);
    expect(created.status).toBe(201);
    const consent = (await created.json()) as { Data: { ConsentId: string } };
    assertSpecResponse('vrp', 'domesticVrpConsentsPost', 201, consent);
    return { id: consent.Data.ConsentId, body, authorisation: await authorise(consent.Data.ConsentId) };
  }

  it('authorises a VRP consent with a refresh token, answers in the spec shape, and pays again with a refreshed token', async () => {
    const { id, body, authorisation } = await authorisedConsent();
    expect(authorisation.tokens.refresh_token).toEqual(expect.any(String));
    const read = await call(t, `${vrp}/domestic-vrp-consents/${id}`, { token });
    const consent = await read.json();
    assertSpecResponse('vrp', 'domesticVrpConsentsGet', 200, consent);
    expect(consent).toMatchObject({ Data: { Status: 'AUTH', DebtorAccount: { SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: '40413271246830' } } });

    const paid = await postSigned(t, `${vrp}/domestic-vrps`, authorisation.tokens.access_token, vrpPaymentBody(id, body, '10.00'));
    expect(paid.status).toBe(201);
    const payment = (await paid.json()) as { Data: { DomesticVRPId: string } };
    assertSpecResponse('vrp', 'domesticVrpPost', 201, payment);
    const status = await call(t, `${vrp}/domestic-vrps/${payment.Data.DomesticVRPId}`, { token });
    assertSpecResponse('vrp', 'domesticVrpGet', 200, await status.json());

    // The mandate outlives the access token: a refreshed token still pays under the same consent.
    const refreshed = await oauth.processRefreshTokenResponse(t.as, t.client, await oauth.refreshTokenGrantRequest(t.as, t.client, t.auth, authorisation.tokens.refresh_token!, { [oauth.customFetch]: t.tppFetch }));
    expect((await postSigned(t, `${vrp}/domestic-vrps`, refreshed.access_token, vrpPaymentBody(id, body, '10.00'))).status).toBe(201);

    const funds = await postSigned(t, `${vrp}/domestic-vrp-consents/${id}/funds-confirmation`, refreshed.access_token, { Data: { ConsentId: id, InstructedAmount: { Amount: '10.00', Currency: 'GBP' } } });
    expect(funds.status).toBe(201);
    assertSpecResponse('vrp', 'domesticVrpConsentsFundsConfirmation', 201, await funds.json());
  });

  it('gives no refresh token for a single domestic payment consent', async () => {
    const created = (await (await postSigned(t, `${t.bank.apis.pisp}/domestic-payment-consents`, token, domesticPaymentConsentBody())).json()) as { Data: { ConsentId: string } };
    expect((await authorise(created.Data.ConsentId)).tokens.refresh_token).toBeUndefined();
  });

  it('refuses a tampered x-jws-signature on the consent and on a payment (U015)', async () => {
    const body = vrpConsentBody();
    const signedOther = await signJws(t, JSON.stringify(vrpConsentBody({ maximum: '9999.00' })));
    const refused = await postSigned(t, `${vrp}/domestic-vrp-consents`, token, body, { jws: signedOther });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as ObError).Errors[0]).toMatchObject({ ErrorCode: 'U015' });

    const { id, authorisation } = await authorisedConsent(body);
    const payment = vrpPaymentBody(id, body, '5.00');
    const tampered = await postSigned(t, `${vrp}/domestic-vrps`, authorisation.tokens.access_token, payment, { jws: await signJws(t, JSON.stringify(vrpPaymentBody(id, body, '0.01'))) });
    expect(tampered.status).toBe(400);
    expect(((await tampered.json()) as ObError).Errors[0]).toMatchObject({ ErrorCode: 'U015' });
  });

  it('refuses a payment whose Initiation or creditor differs from the consent (U008), and a client-credentials token for it', async () => {
    const { id, body, authorisation } = await authorisedConsent();
    const otherInitiation = vrpPaymentBody(id, body, '5.00');
    otherInitiation.Data.Initiation.RemittanceInformation.Unstructured = ['SOMETHING-ELSE'];
    const mismatch = await postSigned(t, `${vrp}/domestic-vrps`, authorisation.tokens.access_token, otherInitiation);
    expect(mismatch.status).toBe(400);
    expect(((await mismatch.json()) as ObError).Errors[0]).toMatchObject({ ErrorCode: 'U008', Path: 'Data.Initiation.RemittanceInformation.Unstructured[0]' });

    const otherCreditor = vrpPaymentBody(id, body, '5.00');
    otherCreditor.Data.Instruction.CreditorAccount = { ...otherCreditor.Data.Instruction.CreditorAccount, Identification: '08080099999999' };
    const elsewhere = await postSigned(t, `${vrp}/domestic-vrps`, authorisation.tokens.access_token, otherCreditor);
    expect(((await elsewhere.json()) as ObError).Errors[0]).toMatchObject({ ErrorCode: 'U008', Path: 'Data.Instruction.CreditorAccount.Identification' });

    // The TPP's own token cannot pay: a VRP needs the PSU's token of its consent.
    expect((await postSigned(t, `${vrp}/domestic-vrps`, token, vrpPaymentBody(id, body, '5.00'))).status).toBe(403);
  });

  it('knows a VRP consent id only as a VRP consent (U011 at the domestic payment consent endpoint)', async () => {
    const created = (await (await postSigned(t, `${vrp}/domestic-vrp-consents`, token, vrpConsentBody())).json()) as { Data: { ConsentId: string } };
    const asPayment = await call(t, `${t.bank.apis.pisp}/domestic-payment-consents/${created.Data.ConsentId}`, { token });
    expect(asPayment.status).toBe(400);
    expect(((await asPayment.json()) as ObError).Errors[0]).toMatchObject({ ErrorCode: 'U011' });
  });
});
