/**
 * A UK Open Banking domestic payment through the gateway, from its consent to its final status, against the sandbox
 * in its FAPI 2.0 and its FAPI 1 Advanced configuration: the caller sends plain JSON; the gateway signs every payment POST (`x-jws-signature`, PS256, `kid`, the OB
 * `crit` claims), owns the `x-idempotency-key` (derived from the caller and its request, so that a retry reaches the
 * bank under the same key), verifies the bank's signed answers, and authorises the consent through a connection
 * bound to its intent. The sandbox checks the signatures, the idempotency and that the payment equals its consent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authoriseAsUkobPsu } from '../../sandbox/ukob/headless-psu.js';
import { domesticPaymentBody, domesticPaymentConsentBody } from '../sandbox/ukob-helpers.js';
import { expectBankRefusal, startUkobGateway, type UkobGateway } from './ukob-gateway.js';

interface ObPaymentConsent {
  Data: { ConsentId: string; Status: string };
}
interface ObPayment {
  Data: { DomesticPaymentId: string; ConsentId: string; Status: string };
}

describe.each(['2.0', '1.0'] as const)('UK Open Banking domestic payment through the gateway (FAPI %s sandbox)', (profile) => {
  let g: UkobGateway;
  beforeAll(async () => {
    g = await startUkobGateway(profile, { documents: true });
  });
  afterAll(() => g?.close());

  it('creates the signed consent, authorises it, submits the payment once and follows it to ACSC', async () => {
    const consentBody = domesticPaymentConsentBody();
    const created = await g.call('/ukob/pisp/domestic-payment-consents', { method: 'POST', body: consentBody, headers: { 'x-jws-signature': 'a caller value is never sent' } });
    expect(created.status).toBe(201);
    const consent = (await created.json()) as ObPaymentConsent;
    expect(consent.Data.Status).toBe('AWAU');
    const sent = (await g.bankRequests()).filter((r) => r.method === 'POST' && r.path.endsWith('/domestic-payment-consents')).at(-1)!;
    expect(sent.status).toBe(201);
    expect(sent.headers['x-jws-signature']).toMatch(/^[\w-]+\.\.[\w-]+$/);
    expect(sent.headers['x-idempotency-key']).toMatch(/^[\w-]{40}$/);

    // The caller's retry of the same request: the same key, so the bank answers with the same consent.
    const retried = await g.call('/ukob/pisp/domestic-payment-consents', { method: 'POST', body: consentBody });
    expect(retried.status).toBe(201);
    expect(((await retried.json()) as ObPaymentConsent).Data.ConsentId).toBe(consent.Data.ConsentId);

    const started = await g.begin('pay-1', {}, { scopes: ['payments'], consentId: consent.Data.ConsentId, psu: { ipAddress: '203.0.113.9' } });
    const callback = await g.authorise(started.authorizeUrl, { debtorAccount: 'acc-ukob1-current' });
    expect(callback.status).toBe(200);
    expect(await callback.json()).toMatchObject({ connectionId: 'pay-1', status: 'active' });

    const paymentBody = domesticPaymentBody(consent.Data.ConsentId, consentBody);
    const submitted = await g.call('/ukob/pisp/domestic-payments', { method: 'POST', body: paymentBody, headers: { 'x-connection-id': 'pay-1' } });
    expect(submitted.status).toBe(201);
    const payment = (await submitted.json()) as ObPayment;
    expect(payment.Data).toMatchObject({ ConsentId: consent.Data.ConsentId, Status: 'PDNG' });

    // A retry of the submission reaches the bank under the same key: the same payment, not a second one.
    const again = await g.call('/ukob/pisp/domestic-payments', { method: 'POST', body: paymentBody, headers: { 'x-connection-id': 'pay-1' } });
    expect(again.status).toBe(201);
    expect(((await again.json()) as ObPayment).Data.DomesticPaymentId).toBe(payment.Data.DomesticPaymentId);
    // Under another key (a caller that means a second payment): the consent is single use, the bank refuses.
    const replay = await g.call('/ukob/pisp/domestic-payments', { method: 'POST', body: paymentBody, headers: { 'x-connection-id': 'pay-1', 'x-idempotency-key': 'second-attempt' } });
    await expectBankRefusal(replay, 'U009');

    // The status with the client-credentials token, one step per read: PDNG → ACSP → ACSC.
    const statuses: string[] = [];
    for (let read = 0; read < 2; read++) {
      const status = await g.call(`/ukob/pisp/domestic-payments/${payment.Data.DomesticPaymentId}`);
      expect(status.status).toBe(200);
      statuses.push(((await status.json()) as ObPayment).Data.Status);
    }
    expect(statuses).toEqual(['ACSP', 'ACSC']);
  });

  it('refuses to authorise a consent that is not awaiting authorisation', async () => {
    const consentBody = domesticPaymentConsentBody({ amount: '1.00' });
    const consent = (await (await g.call('/ukob/pisp/domestic-payment-consents', { method: 'POST', body: consentBody })).json()) as ObPaymentConsent;
    const started = await g.begin('pay-2', {}, { scopes: ['payments'], consentId: consent.Data.ConsentId });
    expect((await g.authorise(started.authorizeUrl)).status).toBe(200);
    const second = await g.call('/connections', { method: 'POST', body: { bank: 'ukob', connectionId: 'pay-3', scopes: ['payments'], consentId: consent.Data.ConsentId } });
    expect(second.status).toBe(409);
    expect(((await second.json()) as { code: string; reason: string }).reason).toBe('consent_not_awaiting');
  });
});

describe("the gateway checks the bank's signed payment answers", () => {
  let g: UkobGateway;
  beforeAll(async () => {
    // Verification expecting another signer than the bank: every signed answer must be refused, none passed on.
    g = await startUkobGateway('2.0', { adjust: (bank) => ({ ...bank, jws: { ...bank.jws!, verify: { ...bank.jws!.verify!, issuer: '0015800001NOTTHEBANK' } } }) });
  });
  afterAll(() => g?.close());

  it('answers bank_response_invalid instead of an answer whose signature does not check out', async () => {
    const created = await g.call('/ukob/pisp/domestic-payment-consents', { method: 'POST', body: domesticPaymentConsentBody() });
    expect(created.status).toBe(502);
    const problem = (await created.json()) as { code: string; detail: string };
    expect(problem.code).toBe('bank_response_invalid');
    expect(problem.detail).toContain('issuer');
    // The bank did create it (the answer was refused, not the request): the signature reached it and checked out.
    expect((await g.bankRequests()).filter((r) => r.path.endsWith('/domestic-payment-consents')).at(-1)?.status).toBe(201);
  });
});

describe('the gateway submits the payment from its consent once the PSU has authorised it (submitPayments)', () => {
  let g: UkobGateway;
  beforeAll(async () => {
    g = await startUkobGateway('2.0', { adjust: (bank) => ({ ...bank, consent: { protocol: 'uk-open-banking', submitPayments: true } }) });
  });
  afterAll(() => g?.close());

  it('pays exactly once, shows the payment on the connection, and the caller follows it to ACSC', async () => {
    const consentBody = domesticPaymentConsentBody({ amount: '20.00' });
    const consent = (await (await g.call('/ukob/pisp/domestic-payment-consents', { method: 'POST', body: consentBody })).json()) as ObPaymentConsent;
    const started = await g.begin('auto-1', {}, { scopes: ['payments'], consentId: consent.Data.ConsentId });
    const { callbackUrl, params } = await authoriseAsUkobPsu(started.authorizeUrl, { ca: g.ca, psuId: 'ukob-psu-1' });
    const callback = new URL(callbackUrl.pathname, callbackUrl.origin);
    callback.search = params.toString();
    const first = await fetch(callback);
    expect(first.status).toBe(200);
    // The same callback delivered again is answered from the first one's outcome, without going to the bank:
    // still one payment (asserted below).
    const again = await fetch(callback);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(await first.json());

    const connection = (await (await g.call('/connections/auto-1')).json()) as { status: string; consent: { id: string; status: string; paymentId: string } };
    expect(connection.status).toBe('active');
    expect(connection.consent).toMatchObject({ id: consent.Data.ConsentId, paymentId: expect.stringMatching(/.+/) });
    const submissions = (await g.bankRequests()).filter((r) => r.method === 'POST' && r.path.endsWith('/domestic-payments'));
    expect(submissions.map((r) => r.status)).toEqual([201]);
    expect(submissions[0]!.headers['x-jws-signature']).toMatch(/^[\w-]+\.\.[\w-]+$/);

    const statuses: string[] = [];
    for (let read = 0; read < 2; read++) {
      const status = await g.call(`/ukob/pisp/domestic-payments/${connection.consent.paymentId}`);
      statuses.push(((await status.json()) as ObPayment).Data.Status);
    }
    expect(statuses).toEqual(['ACSP', 'ACSC']);
  });
});

