/**
 * UK Open Banking domestic VRP through the gateway, end to end, against the sandbox in its FAPI 2.0 and its FAPI 1
 * Advanced configuration: the caller creates the VRP consent through the gateway (plain JSON; the gateway signs it and
 * owns its idempotency key), connects with its ConsentId as for a domestic payment consent (the gateway finds out it
 * is a VRP consent by asking the bank), then submits payments through the gateway with the connection: several under
 * one consent, until one breaks a limit (the bank's U014 passed on); a replayed key with another body is refused; the
 * VRP funds confirmation answers; after the consent is deleted, no payment goes through.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectBankRefusal, startUkobGateway, type UkobGateway } from './ukob-gateway.js';
import { vrpConsentBody, vrpPaymentBody } from './vrp-bodies.js';

interface ObVrpConsent {
  Data: { ConsentId: string; Status: string; DebtorAccount?: { Identification: string } };
}
interface ObVrp {
  Data: { DomesticVRPId: string; ConsentId: string; Status: string };
}
interface Problem {
  code: string;
  status: number;
  bankMessages?: { code: string; path?: string }[];
}

describe.each(['2.0', '1.0'] as const)('UK Open Banking domestic VRP through the gateway (FAPI %s sandbox)', (profile) => {
  let g: UkobGateway;
  beforeAll(async () => {
    g = await startUkobGateway(profile, { documents: true });
  });
  afterAll(() => g?.close());

  const pay = (body: unknown, headers: Record<string, string> = {}) => g.call('/ukob/vrp/domestic-vrps', { method: 'POST', body, headers: { 'x-connection-id': 'vrp-1', ...headers } });

  it('pays several times under one consent, refuses what breaks a limit or replays a key, and nothing once the consent is deleted', async () => {
    // At most 30.00 a payment, 60.00 a day.
    const consentBody = vrpConsentBody({ maximum: '30.00', period: { type: 'Day', alignment: 'Consent', amount: '60.00' } });
    const created = await g.call('/ukob/vrp/domestic-vrp-consents', { method: 'POST', body: consentBody });
    expect(created.status).toBe(201);
    const consent = (await created.json()) as ObVrpConsent;
    expect(consent.Data.ConsentId).toMatch(/^vrp-/);
    expect(consent.Data.Status).toBe('AWAU');
    const sent = (await g.bankRequests()).filter((r) => r.method === 'POST' && r.path.endsWith('/domestic-vrp-consents')).at(-1)!;
    expect(sent.status).toBe(201);
    expect(sent.headers['x-jws-signature']).toMatch(/^[\w-]+\.\.[\w-]+$/);
    expect(sent.headers['x-idempotency-key']).toMatch(/^[\w-]{40}$/);

    // Connected exactly as for a domestic payment consent: scope payments and the ConsentId.
    const started = await g.begin('vrp-1', {}, { scopes: ['payments'], consentId: consent.Data.ConsentId });
    const callback = await g.authorise(started.authorizeUrl, { debtorAccount: 'acc-ukob1-current' });
    expect(callback.status).toBe(200);
    expect(await callback.json()).toMatchObject({ connectionId: 'vrp-1', status: 'active' });
    const connection = (await (await g.call('/connections/vrp-1')).json()) as { status: string; consent: { id: string; status: string } };
    expect(connection).toMatchObject({ status: 'active', consent: { id: consent.Data.ConsentId, status: 'AUTH' } });
    const authorised = (await (await g.call(`/ukob/vrp/domestic-vrp-consents/${consent.Data.ConsentId}`)).json()) as ObVrpConsent;
    expect(authorised.Data).toMatchObject({ Status: 'AUTH', DebtorAccount: { Identification: '40413271246830' } });

    // Two payments: 201 each, two distinct VRPs under the one consent (20.00 + 25.00 = 45.00 of the day's 60.00).
    const first = await pay(vrpPaymentBody(consent.Data.ConsentId, consentBody, '20.00'));
    expect(first.status).toBe(201);
    const secondBody = vrpPaymentBody(consent.Data.ConsentId, consentBody, '25.00');
    const second = await pay(secondBody, { 'x-idempotency-key': 'vrp-second' });
    expect(second.status).toBe(201);
    const [one, two] = [(await first.json()) as ObVrp, (await second.json()) as ObVrp];
    expect(one.Data).toMatchObject({ ConsentId: consent.Data.ConsentId, Status: 'PDNG' });
    expect(two.Data.DomesticVRPId).not.toBe(one.Data.DomesticVRPId);
    const submissions = (await g.bankRequests()).filter((r) => r.method === 'POST' && r.path.endsWith('/domestic-vrps'));
    expect(submissions.every((r) => /^[\w-]+\.\.[\w-]+$/.test(r.headers['x-jws-signature'] ?? ''))).toBe(true);

    // The caller's retry of the second (same key, same body): the same VRP, not a third payment.
    const retried = await pay(secondBody, { 'x-idempotency-key': 'vrp-second' });
    expect(retried.status).toBe(201);
    expect(((await retried.json()) as ObVrp).Data.DomesticVRPId).toBe(two.Data.DomesticVRPId);
    // The same key with another body: the gateway sends the same derived key, the bank refuses it.
    const replayed = await pay(vrpPaymentBody(consent.Data.ConsentId, consentBody, '1.00'), { 'x-idempotency-key': 'vrp-second' });
    await expectBankRefusal(replayed, 'U006', 'x-idempotency-key');

    // A third of 20.00 would make 65.00 today: over the periodic limit, refused with the bank's code and field.
    const third = await pay(vrpPaymentBody(consent.Data.ConsentId, consentBody, '20.00'));
    await expectBankRefusal(third, 'U014', 'Data.ControlParameters.PeriodicLimits[0].Amount');
    // Over the individual maximum.
    const big = (await (await pay(vrpPaymentBody(consent.Data.ConsentId, consentBody, '30.01'))).json()) as Problem;
    expect(big.bankMessages).toContainEqual(expect.objectContaining({ code: 'U014', path: 'Data.ControlParameters.MaximumIndividualAmount.Amount' }));
    // Within what is left (15.00): accepted.
    expect((await pay(vrpPaymentBody(consent.Data.ConsentId, consentBody, '15.00'))).status).toBe(201);

    // The payment's status with the gateway's client-credentials token, one step per read.
    const status = await g.call(`/ukob/vrp/domestic-vrps/${one.Data.DomesticVRPId}`);
    expect(status.status).toBe(200);
    expect(((await status.json()) as ObVrp).Data.Status).toBe('ACSP');
    const details = (await (await g.call(`/ukob/vrp/domestic-vrps/${one.Data.DomesticVRPId}/payment-details`)).json()) as { Data: { PaymentStatus: { Status: string }[] } };
    expect(details.Data.PaymentStatus.map((s) => s.Status)).toEqual(['PDNG', 'ACSP']);

    // The consent deleted (the caller, through the gateway): the bank revokes its tokens, no payment goes through.
    const deleted = await g.call(`/ukob/vrp/domestic-vrp-consents/${consent.Data.ConsentId}`, { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    const afterDelete = await pay(vrpPaymentBody(consent.Data.ConsentId, consentBody, '1.00'));
    expect(afterDelete.status).toBeGreaterThanOrEqual(400);
    expect(afterDelete.status).toBeLessThan(500);
    const refused = (await afterDelete.json()) as Problem;
    expect(refused.code).toBe('reconsent_required');
    // The gateway tried the connection's refresh token (a VRP mandate has one, as an account-access consent does),
    // revoked with the consent, and asked the bank about the consent: whichever it recorded first, the connection
    // asks for a new consent.
    const ended = (await (await g.call('/connections/vrp-1')).json()) as { status: string; reason: { code: string; detail: string } };
    expect(ended.status).toBe('reconsent_required');
    expect(ended.reason.detail).toMatch(/refresh token \(invalid_grant\)|consent is CANC/);
    const paid = (await g.bankRequests()).filter((r) => r.method === 'POST' && r.path.endsWith('/domestic-vrps') && r.status === 201);
    expect(paid.length).toBe(4);
  });

  it("confirms funds for a VRP with the connection's token", async () => {
    const consentBody = vrpConsentBody();
    const consent = (await (await g.call('/ukob/vrp/domestic-vrp-consents', { method: 'POST', body: consentBody })).json()) as ObVrpConsent;
    const started = await g.begin('vrp-funds', {}, { scopes: ['payments'], consentId: consent.Data.ConsentId });
    expect((await g.authorise(started.authorizeUrl, { debtorAccount: 'acc-ukob1-current' })).status).toBe(200);
    const confirm = (amount: string) =>
      g.call(`/ukob/vrp/domestic-vrp-consents/${consent.Data.ConsentId}/funds-confirmation`, {
        method: 'POST',
        body: { Data: { ConsentId: consent.Data.ConsentId, Reference: 'SWEEP-1', InstructedAmount: { Amount: amount, Currency: 'GBP' } } },
        headers: { 'x-connection-id': 'vrp-funds' },
      });
    const covered = await confirm('25.00');
    expect(covered.status).toBe(201);
    expect(((await covered.json()) as { Data: { FundsAvailableResult: { FundsAvailable: string } } }).Data.FundsAvailableResult.FundsAvailable).toBe('Available');
    // 3252.58 available on the debtor account.
    const short = (await (await confirm('5000.00')).json()) as { Data: { FundsAvailableResult: { FundsAvailable: string } } };
    expect(short.Data.FundsAvailableResult.FundsAvailable).toBe('NotAvailable');
  });
});

describe.each(['2.0', '1.0'] as const)('a VRP connection outlives its access token (FAPI %s sandbox)', (profile) => {
  let g: UkobGateway;
  beforeAll(async () => {
    // Access tokens live 2 s: the next payment after that needs the mandate's refresh token.
    g = await startUkobGateway(profile, { accessTtlSeconds: 2 });
  });
  afterAll(() => g?.close());

  it('refreshes the PSU token of the mandate and keeps paying', async () => {
    const consentBody = vrpConsentBody();
    const consent = (await (await g.call('/ukob/vrp/domestic-vrp-consents', { method: 'POST', body: consentBody })).json()) as ObVrpConsent;
    const started = await g.begin('vrp-long', {}, { scopes: ['payments'], consentId: consent.Data.ConsentId });
    expect((await g.authorise(started.authorizeUrl, { debtorAccount: 'acc-ukob1-current' })).status).toBe(200);
    const pay = (amount: string) => g.call('/ukob/vrp/domestic-vrps', { method: 'POST', body: vrpPaymentBody(consent.Data.ConsentId, consentBody, amount), headers: { 'x-connection-id': 'vrp-long' } });
    expect((await pay('5.00')).status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    // The access token has expired: the gateway refreshes it (a domestic payment's connection could not) and pays.
    expect((await pay('6.00')).status).toBe(201);
    expect((await g.tokenRequests()).refresh_token ?? 0).toBeGreaterThanOrEqual(1);
    expect(((await (await g.call('/connections/vrp-long')).json()) as { status: string }).status).toBe('active');
  });
});
