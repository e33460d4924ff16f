/**
 * UK Open Banking domestic scheduled payments and standing orders through the gateway's uniform surface, against the
 * sandbox in its FAPI 2.0 and FAPI 1 Advanced configurations: the caller creates the consent (the gateway signs it and
 * keys it), a connection authorises it (the PSU headless at the bank), the caller submits the order with the
 * connection and reads it back; the bank's refusals (a past execution date, a consumed consent) reach the caller as
 * the gateway's bank problems with the bank's codes. With `submitPayments`, the gateway submits the order itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daysFromNow, paymentOrderBody, scheduledPaymentConsentBody, standingOrderConsentBody } from '../sandbox/ukob-helpers.js';
import { expectBankRefusal, startUkobGateway, type UkobGateway } from './ukob-gateway.js';

interface Consent {
  Data: { ConsentId: string; Status: string };
}
type Order = { Data: Record<string, string> & { ConsentId: string; Status: string } };
const TYPES = [
  { what: 'scheduled payment', consents: 'domestic-scheduled-payment-consents', orders: 'domestic-scheduled-payments', idName: 'DomesticScheduledPaymentId', body: () => scheduledPaymentConsentBody(), read: 'ACSP' },
  { what: 'standing order', consents: 'domestic-standing-order-consents', orders: 'domestic-standing-orders', idName: 'DomesticStandingOrderId', body: () => standingOrderConsentBody(), read: 'ACTC' },
] as const;

describe.each(['2.0', '1.0'] as const)('UK Open Banking scheduled payments and standing orders through the gateway (FAPI %s sandbox)', (profile) => {
  let g: UkobGateway;
  beforeAll(async () => {
    g = await startUkobGateway(profile, { documents: true });
  });
  afterAll(() => g?.close());

  it.each(TYPES)('a domestic $what: created, authorised, submitted once, read back', async (type) => {
    const consentBody = type.body();
    const created = await g.call(`/ukob/pisp/${type.consents}`, { method: 'POST', body: consentBody });
    expect(created.status, await created.clone().text()).toBe(201);
    const consent = (await created.json()) as Consent;
    expect(consent.Data.Status).toBe('AWAU');
    const sent = (await g.bankRequests()).filter((r) => r.method === 'POST' && r.path.endsWith(`/${type.consents}`)).at(-1)!;
    expect(sent.headers['x-jws-signature']).toMatch(/^[\w-]+\.\.[\w-]+$/);
    expect(sent.headers['x-idempotency-key']).toMatch(/^[\w-]{40}$/);

    const connectionId = `${type.orders}-${profile}`;
    const started = await g.begin(connectionId, {}, { scopes: ['payments'], consentId: consent.Data.ConsentId });
    const callback = await g.authorise(started.authorizeUrl, { debtorAccount: 'acc-ukob1-current' });
    expect(callback.status).toBe(200);
    expect(await callback.json()).toMatchObject({ connectionId, status: 'active' });
    const connection = (await (await g.call(`/connections/${connectionId}`)).json()) as { consent: { id: string; status: string; kind: string } };
    expect(connection.consent).toMatchObject({ id: consent.Data.ConsentId, status: 'AUTH' });

    const orderBody = paymentOrderBody(consent.Data.ConsentId, consentBody);
    const submitted = await g.call(`/ukob/pisp/${type.orders}`, { method: 'POST', body: orderBody, headers: { 'x-connection-id': connectionId } });
    expect(submitted.status, await submitted.clone().text()).toBe(201);
    const order = (await submitted.json()) as Order;
    expect(order.Data).toMatchObject({ ConsentId: consent.Data.ConsentId, Status: 'PDNG' });
    const orderId = order.Data[type.idName]!;

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

  it('passes on the bank’s refusal of a scheduled payment whose execution date has passed, its code and field kept', async () => {
    const created = await g.call('/ukob/pisp/domestic-scheduled-payment-consents', { method: 'POST', body: scheduledPaymentConsentBody({ executeAt: daysFromNow(-1) }) });
    await expectBankRefusal(created, 'U003', 'Data.Initiation.RequestedExecutionDateTime');
  });
});

describe('the gateway submits a standing order from its consent once the PSU has authorised it (submitPayments)', () => {
  let g: UkobGateway;
  beforeAll(async () => {
    g = await startUkobGateway('2.0', { adjust: (bank) => ({ ...bank, consent: { protocol: 'uk-open-banking', submitPayments: true } }) });
  });
  afterAll(() => g?.close());

  it('sets it up exactly once and shows its id on the connection', async () => {
    const consent = (await (await g.call('/ukob/pisp/domestic-standing-order-consents', { method: 'POST', body: standingOrderConsentBody() })).json()) as Consent;
    const started = await g.begin('order-1', {}, { scopes: ['payments'], consentId: consent.Data.ConsentId });
    expect((await g.authorise(started.authorizeUrl)).status).toBe(200);
    const connection = (await (await g.call('/connections/order-1')).json()) as { status: string; consent: { id: string; paymentId: string } };
    expect(connection.status).toBe('active');
    expect(connection.consent).toMatchObject({ id: consent.Data.ConsentId, paymentId: expect.stringMatching(/^dso-/) });
    const submissions = (await g.bankRequests()).filter((r) => r.method === 'POST' && r.path.endsWith('/domestic-standing-orders'));
    expect(submissions.map((r) => r.status)).toEqual([201]);
    const read = (await (await g.call(`/ukob/pisp/domestic-standing-orders/${connection.consent.paymentId}`)).json()) as Order;
    expect(read.Data).toMatchObject({ ConsentId: consent.Data.ConsentId, Status: 'ACTC' });
  });
});
