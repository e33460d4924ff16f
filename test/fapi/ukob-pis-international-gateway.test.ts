/**
 * UK Open Banking international payments, scheduled payments and standing orders through the gateway's uniform
 * surface, against the sandbox in its FAPI 2.0 and FAPI 1 Advanced configurations: the caller creates the consent (the
 * gateway signs it and keys it), a connection authorises it (the PSU headless at the bank), the caller confirms funds,
 * submits the order with the connection and reads it back; the bank's refusals (an Agreed rate on a contract it does
 * not know, a consumed consent) reach the caller as the gateway's bank problems with the bank's codes. Connecting a
 * consent created through the gateway reads it once, as its kind. With
 * `submitPayments`, the gateway submits the order itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { internationalConsentBody, paymentOrderBody } from '../sandbox/ukob-helpers.js';
import { expectBankRefusal, startUkobGateway, type UkobGateway } from './ukob-gateway.js';

interface Consent {
  Data: { ConsentId: string; Status: string; ExchangeRateInformation?: { RateType: string; ExchangeRate: number } };
}
type Order = { Data: Record<string, unknown> & { ConsentId: string; Status: string } };
const TYPES = [
  { kind: 'payment', consents: 'international-payment-consents', orders: 'international-payments', idName: 'InternationalPaymentId', funds: true, read: 'ACSP' },
  { kind: 'scheduled-payment', consents: 'international-scheduled-payment-consents', orders: 'international-scheduled-payments', idName: 'InternationalScheduledPaymentId', funds: true, read: 'ACSP' },
  { kind: 'standing-order', consents: 'international-standing-order-consents', orders: 'international-standing-orders', idName: 'InternationalStandingOrderId', funds: false, read: 'ACTC' },
] as const;

describe.each(['2.0', '1.0'] as const)('UK Open Banking international payment orders through the gateway (FAPI %s sandbox)', (profile) => {
  let g: UkobGateway;
  beforeAll(async () => {
    g = await startUkobGateway(profile, { documents: true });
  });
  afterAll(() => g?.close());

  it.each(TYPES)('an international $kind: created, authorised, funds confirmed, submitted once, read back', async (type) => {
    const consentBody = internationalConsentBody(type.kind);
    const created = await g.call(`/ukob/pisp/${type.consents}`, { method: 'POST', body: consentBody });
    expect(created.status, await created.clone().text()).toBe(201);
    const consent = (await created.json()) as Consent;
    expect(consent.Data.Status).toBe('AWAU');
    // The bank's rate, passed on (a standing order carries none).
    expect(consent.Data.ExchangeRateInformation).toEqual(type.kind === 'standing-order' ? undefined : { UnitCurrency: 'GBP', RateType: 'Indicative', ExchangeRate: 1.165 });
    const sent = (await g.bankRequests()).filter((r) => r.method === 'POST' && r.path.endsWith(`/${type.consents}`)).at(-1)!;
    expect(sent.headers['x-jws-signature']).toMatch(/^[\w-]+\.\.[\w-]+$/);
    expect(sent.headers['x-idempotency-key']).toMatch(/^[\w-]{40}$/);

    const connectionId = `${type.orders}-${profile}`;
    const started = await g.begin(connectionId, {}, { scopes: ['payments'], consentId: consent.Data.ConsentId });
    // Created through this gateway: read once, as the kind it was created as (not as each payment kind in turn).
    const reads = (await g.bankRequests()).filter((r) => r.method === 'GET' && r.path.endsWith(`/${consent.Data.ConsentId}`));
    expect(reads.map((r) => r.path.slice(r.path.lastIndexOf('/', r.path.lastIndexOf('/') - 1)))).toEqual([`/${type.consents}/${consent.Data.ConsentId}`]);
    const callback = await g.authorise(started.authorizeUrl, { debtorAccount: 'acc-ukob1-current' });
    expect(callback.status).toBe(200);
    expect(await callback.json()).toMatchObject({ connectionId, status: 'active' });
    const connection = (await (await g.call(`/connections/${connectionId}`)).json()) as { consent: { id: string; status: string } };
    expect(connection.consent).toMatchObject({ id: consent.Data.ConsentId, status: 'AUTH' });

    if (type.funds) {
      const funds = await g.call(`/ukob/pisp/${type.consents}/${consent.Data.ConsentId}/funds-confirmation`, { headers: { 'x-connection-id': connectionId } });
      expect(funds.status, await funds.clone().text()).toBe(200);
      expect(((await funds.json()) as { Data: { FundsAvailableResult: { FundsAvailable: boolean } } }).Data.FundsAvailableResult.FundsAvailable).toBe(true);
    }

    const orderBody = paymentOrderBody(consent.Data.ConsentId, consentBody);
    const submitted = await g.call(`/ukob/pisp/${type.orders}`, { method: 'POST', body: orderBody, headers: { 'x-connection-id': connectionId } });
    expect(submitted.status, await submitted.clone().text()).toBe(201);
    const order = (await submitted.json()) as Order;
    expect(order.Data).toMatchObject({ ConsentId: consent.Data.ConsentId, Status: 'PDNG' });
    const orderId = order.Data[type.idName] as string;

    // A second order from the consumed consent (another key: a caller meaning a second one): the bank's U009.
    const second = await g.call(`/ukob/pisp/${type.orders}`, { method: 'POST', body: orderBody, headers: { 'x-connection-id': connectionId, 'x-idempotency-key': 'a-second-order' } });
    await expectBankRefusal(second, 'U009', 'Data.ConsentId');

    const read = await g.call(`/ukob/pisp/${type.orders}/${orderId}`);
    expect(read.status).toBe(200);
    expect(((await read.json()) as Order).Data).toMatchObject({ [type.idName]: orderId, Status: type.read });
    const details = await g.call(`/ukob/pisp/${type.orders}/${orderId}/payment-details`);
    expect(details.status).toBe(200);
    expect(((await details.json()) as { Data: { PaymentStatus: { Status: string }[] } }).Data.PaymentStatus.map((s) => s.Status)).toEqual(['PDNG', type.read]);
  });

  it('passes on the bank’s refusal of an Agreed rate on a contract it does not know, its code and field kept', async () => {
    const body = internationalConsentBody('payment', { initiation: { ExchangeRateInformation: { UnitCurrency: 'GBP', RateType: 'Agreed', ExchangeRate: 1.1612, ContractIdentification: 'FX-NOT-A-CONTRACT' } } });
    const created = await g.call('/ukob/pisp/international-payment-consents', { method: 'POST', body });
    await expectBankRefusal(created, 'U002', 'Data.Initiation.ExchangeRateInformation.ContractIdentification');
  });
});

describe('the gateway submits an international payment from its consent once the PSU has authorised it (submitPayments)', () => {
  let g: UkobGateway;
  beforeAll(async () => {
    g = await startUkobGateway('2.0', { adjust: (bank) => ({ ...bank, consent: { protocol: 'uk-open-banking', submitPayments: true } }) });
  });
  afterAll(() => g?.close());

  it('makes it exactly once, at the agreed rate, and shows its id on the connection', async () => {
    const rate = { UnitCurrency: 'GBP', RateType: 'Agreed', ExchangeRate: 1.1612, ContractIdentification: 'FX-GBPEUR-2026-0001' };
    const consent = (await (await g.call('/ukob/pisp/international-payment-consents', { method: 'POST', body: internationalConsentBody('payment', { initiation: { ExchangeRateInformation: rate } }) })).json()) as Consent;
    const started = await g.begin('international-1', {}, { scopes: ['payments'], consentId: consent.Data.ConsentId });
    expect((await g.authorise(started.authorizeUrl)).status).toBe(200);
    const connection = (await (await g.call('/connections/international-1')).json()) as { status: string; consent: { id: string; paymentId: string } };
    expect(connection.status).toBe('active');
    expect(connection.consent).toMatchObject({ id: consent.Data.ConsentId, paymentId: expect.stringMatching(/^ip-/) });
    const submissions = (await g.bankRequests()).filter((r) => r.method === 'POST' && r.path.endsWith('/international-payments'));
    expect(submissions.map((r) => r.status)).toEqual([201]);
    const read = (await (await g.call(`/ukob/pisp/international-payments/${connection.consent.paymentId}`)).json()) as Order;
    expect(read.Data).toMatchObject({ ConsentId: consent.Data.ConsentId, Status: 'ACSP', ExchangeRateInformation: { ...rate, ExpirationDateTime: '2099-12-31T23:59:59+00:00' } });
  });
});
