/**
 * What a caller sees of a UK Open Banking bank through the gateway, beyond the flows themselves: the intent's status
 * on `GET /connections/{id}` (AWAU → AUTH → CANC or EXPD, read again at the bank per `consent.statusCheckSeconds`), and the
 * payment types the protocol cannot serve yet answered 501 `operation_not_supported` by the gateway itself, before
 * the bank (the sandbox would answer its own 501 `U000`, which a caller would get as a bank failure).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { domesticPaymentConsentBody } from '../sandbox/ukob-helpers.js';
import { startUkobGateway, type UkobGateway } from './ukob-gateway.js';

interface ConnectionView {
  status: string;
  reason?: { code: string };
  consent?: { protocol: string; id: string; status: string; checkedAt?: string };
}

describe('a ukob connection and the payment types not supported yet (FAPI 2.0 sandbox)', () => {
  let g: UkobGateway;
  beforeAll(async () => {
    // Every GET /connections/{id} reads the intent at the bank (default: once a minute); one unattended read a day.
    g = await startUkobGateway('2.0', { adjust: (bank) => ({ ...bank, consent: { protocol: 'uk-open-banking', statusCheckSeconds: 0, frequencyPerDay: 1 } }) });
  });
  afterAll(() => g?.close());

  const view = async (id: string) => (await (await g.call(`/connections/${id}`)).json()) as ConnectionView;
  const intentReads = async (id: string) => (await g.bankRequests()).filter((r) => r.method === 'GET' && r.path.endsWith(`/account-access-consents/${id}`)).length;

  it('shows the intent as the bank holds it: AWAU while pending, AUTH once authorised, CANC when cancelled at the bank', async () => {
    const started = await g.begin('status-1');
    expect(started.status).toBe('pending');
    const pending = await view('status-1');
    expect(pending.consent).toMatchObject({ protocol: 'uk-open-banking', id: expect.stringMatching(/^aac-/), status: 'AWAU' });
    const intentId = pending.consent!.id;

    expect((await g.authorise(started.authorizeUrl)).status).toBe(200);
    const reads = await intentReads(intentId);
    const active = await view('status-1');
    expect(active).toMatchObject({ status: 'active', consent: { id: intentId, status: 'AUTH' } });
    // statusCheckSeconds 0: that GET read the intent at the bank.
    expect(await intentReads(intentId)).toBe(reads + 1);

    // Cancelled at the bank behind the connection's back (here by a client-credentials DELETE through the gateway).
    expect((await g.call(`/ukob/aisp/account-access-consents/${intentId}`, { method: 'DELETE' })).status).toBe(204);
    const ended = await view('status-1');
    expect(ended).toMatchObject({ status: 'reconsent_required', reason: { code: 'consent_revoked' }, consent: { id: intentId, status: 'CANC' } });
    // Nothing deleted: the connection stays, waiting for a new consent.
    expect((await g.call('/ukob/aisp/accounts', { headers: { 'x-connection-id': 'status-1' } })).status).toBe(409);
  });

  it('shows an intent that expired at the bank as reconsent_required with consent_expired (EXPD)', async () => {
    const started = await g.begin('expiry-1');
    expect((await g.authorise(started.authorizeUrl)).status).toBe(200);
    const intentId = (await view('expiry-1')).consent!.id;
    expect((await view('expiry-1')).status).toBe('active');
    // The bank's clock passes the intent's ExpirationDateTime (the sandbox's control knob: expire it now).
    const expired = await fetch(`${g.sandbox.banks.ukob.controlUrl}/intents/${intentId}/expire`, { method: 'POST' });
    expect(expired.status).toBe(200);
    expect(await expired.json()).toMatchObject({ id: intentId, status: 'EXPD' });
    expect(await view('expiry-1')).toMatchObject({ status: 'reconsent_required', reason: { code: 'consent_expired' }, consent: { id: intentId, status: 'EXPD' } });
    // An intent no longer AWAU or AUTH cannot expire again.
    expect((await fetch(`${g.sandbox.banks.ukob.controlUrl}/intents/${intentId}/expire`, { method: 'POST' })).status).toBe(409);
  });

  it('counts account reads without x-fapi-customer-ip-address against the unattended budget, and none with it', async () => {
    const started = await g.begin('budget-1');
    expect((await g.authorise(started.authorizeUrl)).status).toBe(200);
    const read = (headers: Record<string, string> = {}) => g.call('/ukob/aisp/accounts', { headers: { 'x-connection-id': 'budget-1', ...headers } });
    expect((await read()).status).toBe(200);
    const spent = await read();
    expect(spent.status).toBe(429);
    expect(((await spent.json()) as { code: string }).code).toBe('unattended_budget_exhausted');
    // The PSU is present (its IP address given, as UK Open Banking names it): not counted, and the bank answers.
    expect((await read({ 'x-fapi-customer-ip-address': '203.0.113.9' })).status).toBe(200);
  });

  it('asks the bank for the services and validity the caller asked for, and refuses a list of accounts before the bank', async () => {
    await g.begin('access-1', {}, { access: { services: ['balances', 'transactions'] }, validUntil: '2030-06-30' });
    const intentId = (await view('access-1')).consent!.id;
    const intent = (await (await g.call(`/ukob/aisp/account-access-consents/${intentId}`)).json()) as { Data: { Permissions: string[]; ExpirationDateTime: string } };
    expect(intent.Data.Permissions.sort()).toEqual(['ReadBalances', 'ReadTransactionsCredits', 'ReadTransactionsDebits', 'ReadTransactionsDetail']);
    expect(intent.Data.ExpirationDateTime).toMatch(/^2030-06-30T23:59:59/);

    const before = (await g.bankRequests()).length;
    const refused = await g.call('/connections', { method: 'POST', body: { bank: 'ukob', connectionId: 'access-2', access: { accounts: ['GB29NWBK60161331926819'] } } });
    expect(refused.status).toBe(400);
    const problem = (await refused.json()) as { code: string; detail: string };
    expect(problem.code).toBe('bad_request');
    expect(problem.detail).toContain('access.accounts');
    expect((await g.bankRequests()).length).toBe(before);
  });

  it('answers 501 operation_not_supported for a file payment consent, without calling the bank', async () => {
    const before = (await g.bankRequests()).length;
    const body = { Data: { Initiation: { FileType: 'UK.OBIE.PaymentInitiation.4.0', FileHash: 'm5ah/h1UjLvJYMxqAoZmj9dKdjZnsGNm+yMkJp/KuqQ=' } }, Risk: {} };
    const response = await g.call('/ukob/pisp/file-payment-consents', { method: 'POST', body });
    expect(response.status).toBe(501);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = (await response.json()) as { code: string; detail: string; operationId: string; bank: string };
    expect(problem).toMatchObject({ code: 'operation_not_supported', bank: 'ukob', operationId: 'CreateFilePaymentConsents' });
    expect(problem.detail).toContain('ukob/pisp/CreateFilePaymentConsents is not supported yet');
    expect(problem.detail).toContain('file payments');
    // A PSU-token operation of the same kind too, before any connection is looked for.
    const payment = await g.call('/ukob/pisp/file-payments', { method: 'POST', body, headers: { 'x-connection-id': 'no-such-connection' } });
    expect(payment.status).toBe(501);
    expect(((await payment.json()) as { code: string }).code).toBe('operation_not_supported');
    // Not even a token request: the bank saw nothing.
    expect((await g.bankRequests()).length).toBe(before);
    // The domestic payment consent, supported, still reaches the bank.
    expect((await g.call('/ukob/pisp/domestic-payment-consents/pdc-unknown')).status).not.toBe(501);
  });
});

describe('the headers the gateway owns for a ukob bank are never asked of callers (documents mounted, requests validated)', () => {
  let g: UkobGateway;
  beforeAll(async () => {
    g = await startUkobGateway('2.0', { documents: true });
  });
  afterAll(() => g?.close());

  it('accepts a payment consent without x-jws-signature or x-idempotency-key, and signs and keys it for the bank', async () => {
    const created = await g.call('/ukob/pisp/domestic-payment-consents', { method: 'POST', body: domesticPaymentConsentBody() });
    expect(created.status).toBe(201);
    const sent = (await g.bankRequests()).filter((r) => r.method === 'POST' && r.path.endsWith('/domestic-payment-consents')).at(-1)!;
    expect(sent.headers['x-jws-signature']).toMatch(/^[\w-]+\.\.[\w-]+$/);
    expect(sent.headers['x-idempotency-key']).toMatch(/^[\w-]{40}$/);
    // Validation is on: a body the spec refuses is still a 400 naming the field, before the bank.
    const before = (await g.bankRequests()).length;
    const invalid = await g.call('/ukob/pisp/domestic-payment-consents', { method: 'POST', body: { Data: {}, Risk: {} } });
    expect(invalid.status).toBe(400);
    const problem = (await invalid.json()) as { code: string; violations: { at: string }[] };
    expect(problem.code).toBe('bad_request');
    expect(problem.violations.map((v) => v.at)).toEqual([expect.stringContaining('Initiation')]);
    expect(problem.violations.some((v) => /x-jws-signature|x-idempotency-key/.test(v.at))).toBe(false);
    expect((await g.bankRequests()).length).toBe(before);
  });

  it('leaves them out of /openapi.json, keeping the x-fapi-* headers a caller gives, and the operations not supported yet; VRP listed', async () => {
    const document = (await (await g.call('/openapi.json')).json()) as { paths: Record<string, Record<string, { parameters: { name?: string; required?: boolean }[] }>> };
    for (const [path, method] of [
      ['/ukob/pisp/domestic-payment-consents', 'post'],
      ['/ukob/pisp/domestic-payments', 'post'],
      ['/ukob/cbpii/funds-confirmations', 'post'],
      ['/ukob/vrp/domestic-vrp-consents', 'post'],
      ['/ukob/vrp/domestic-vrps', 'post'],
    ] as const) {
      const names = document.paths[path]![method]!.parameters.flatMap((p) => (p.name ? [p.name.toLowerCase()] : []));
      expect(names).not.toContain('x-jws-signature');
      expect(names).not.toContain('x-idempotency-key');
      expect(names).not.toContain('authorization');
      expect(names).toEqual(expect.arrayContaining(['x-fapi-interaction-id', 'x-fapi-customer-ip-address']));
    }
    // The payment types answered 501 are not offered at all; domestic and international payments, scheduled payments and standing orders are.
    const paths = Object.keys(document.paths).filter((path) => path.startsWith('/ukob/pisp/'));
    expect(paths.filter((path) => /file-payment/.test(path))).toEqual([]);
    expect(paths).toContain('/ukob/pisp/domestic-payments/{DomesticPaymentId}');
    expect(paths.filter((path) => /international/.test(path)).sort()).toEqual([
      '/ukob/pisp/international-payment-consents',
      '/ukob/pisp/international-payment-consents/{ConsentId}',
      '/ukob/pisp/international-payment-consents/{ConsentId}/funds-confirmation',
      '/ukob/pisp/international-payments',
      '/ukob/pisp/international-payments/{InternationalPaymentId}',
      '/ukob/pisp/international-payments/{InternationalPaymentId}/payment-details',
      '/ukob/pisp/international-scheduled-payment-consents',
      '/ukob/pisp/international-scheduled-payment-consents/{ConsentId}',
      '/ukob/pisp/international-scheduled-payment-consents/{ConsentId}/funds-confirmation',
      '/ukob/pisp/international-scheduled-payments',
      '/ukob/pisp/international-scheduled-payments/{InternationalScheduledPaymentId}',
      '/ukob/pisp/international-scheduled-payments/{InternationalScheduledPaymentId}/payment-details',
      '/ukob/pisp/international-standing-order-consents',
      '/ukob/pisp/international-standing-order-consents/{ConsentId}',
      '/ukob/pisp/international-standing-orders',
      '/ukob/pisp/international-standing-orders/{InternationalStandingOrderPaymentId}',
      '/ukob/pisp/international-standing-orders/{InternationalStandingOrderPaymentId}/payment-details',
    ]);
    expect(paths.filter((path) => /^\/ukob\/pisp\/domestic-(scheduled|standing-order)/.test(path)).sort()).toEqual([
      '/ukob/pisp/domestic-scheduled-payment-consents',
      '/ukob/pisp/domestic-scheduled-payment-consents/{ConsentId}',
      '/ukob/pisp/domestic-scheduled-payments',
      '/ukob/pisp/domestic-scheduled-payments/{DomesticScheduledPaymentId}',
      '/ukob/pisp/domestic-scheduled-payments/{DomesticScheduledPaymentId}/payment-details',
      '/ukob/pisp/domestic-standing-order-consents',
      '/ukob/pisp/domestic-standing-order-consents/{ConsentId}',
      '/ukob/pisp/domestic-standing-orders',
      '/ukob/pisp/domestic-standing-orders/{DomesticStandingOrderId}',
      '/ukob/pisp/domestic-standing-orders/{DomesticStandingOrderId}/payment-details',
    ]);
    for (const path of ['/ukob/pisp/domestic-scheduled-payment-consents', '/ukob/pisp/domestic-standing-orders', '/ukob/pisp/international-payment-consents', '/ukob/pisp/international-standing-orders']) {
      const names = document.paths[path]!.post!.parameters.flatMap((p) => (p.name ? [p.name.toLowerCase()] : []));
      expect(names).not.toContain('x-jws-signature');
      expect(names).not.toContain('x-idempotency-key');
    }
    // VRP is offered again, all but the amendment of a consent (PUT, PATCH).
    expect(Object.keys(document.paths['/ukob/vrp/domestic-vrp-consents/{ConsentId}']!).sort()).toEqual(['delete', 'get']);
    for (const path of ['/ukob/vrp/domestic-vrp-consents/{ConsentId}/funds-confirmation', '/ukob/vrp/domestic-vrps/{DomesticVRPId}', '/ukob/vrp/domestic-vrps/{DomesticVRPId}/payment-details']) {
      expect(Object.keys(document.paths)).toContain(path);
    }
  });
});
