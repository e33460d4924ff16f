/**
 * The UK-OB-like sandbox bank's international payments, scheduled payments and standing orders (PISP 4.0): each a
 * signed, idempotent, single-use consent the PSU authorises like a domestic payment, then one order with the PSU's
 * token; what the bank checks of the currencies and the exchange rate (an Agreed rate's contract), the rate it answers,
 * the funds confirmation of the two types that have one; every answer in the spec's shape.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertSpecResponse, authoriseFapi2, call, clientCredentials, expectObError, internationalConsentBody, paymentOrderBody, postSigned, startUkobTestSandbox, verifyBankSignature, type InternationalKind, type UkobTestSandbox } from './ukob-helpers.js';

interface Rate {
  UnitCurrency: string;
  ExchangeRate: number;
  RateType: string;
  ContractIdentification?: string;
  ExpirationDateTime?: string;
}
interface Consent {
  Data: { ConsentId: string; Status: string; ExchangeRateInformation?: Rate };
}
type Order = { Data: Record<string, unknown> & { ConsentId: string; Status: string; ExchangeRateInformation?: Rate } };
type Funds = { Data: { FundsAvailableResult: { FundsAvailable: boolean } } };

/** The three international payment order types, by the spec's names. */
const TYPES = [
  { kind: 'payment', consents: 'international-payment-consents', orders: 'international-payments', stem: 'InternationalPayment', idName: 'InternationalPaymentId', idParam: 'InternationalPaymentId', funds: true, life: ['PDNG', 'ACSP', 'ACSC'] },
  { kind: 'scheduled-payment', consents: 'international-scheduled-payment-consents', orders: 'international-scheduled-payments', stem: 'InternationalScheduledPayment', idName: 'InternationalScheduledPaymentId', idParam: 'InternationalScheduledPaymentId', funds: true, life: ['PDNG', 'ACSP', 'ACSC'] },
  { kind: 'standing-order', consents: 'international-standing-order-consents', orders: 'international-standing-orders', stem: 'InternationalStandingOrder', idName: 'InternationalStandingOrderId', idParam: 'InternationalStandingOrderPaymentId', funds: false, life: ['PDNG', 'ACTC'] },
] as const satisfies ReadonlyArray<{ kind: InternationalKind } & Record<string, unknown>>;

const AGREED = { UnitCurrency: 'GBP', RateType: 'Agreed', ExchangeRate: 1.1612, ContractIdentification: 'FX-GBPEUR-2026-0001' };

describe('UK-OB-like sandbox bank: international payments, scheduled payments and standing orders', () => {
  let t: UkobTestSandbox;
  let pisp: string;

  beforeAll(async () => {
    t = await startUkobTestSandbox('2.0');
    pisp = t.bank.apis.pisp!;
  });
  afterAll(async () => {
    await t?.close();
  });

  describe.each(TYPES)('an international $kind', (type) => {
    it('goes from its signed consent through the PSU’s authorisation to one order, read back to its final status', async () => {
      const clientToken = await clientCredentials(t, 'payments');
      const consentBody = internationalConsentBody(type.kind, type.kind === 'standing-order' ? {} : { initiation: { ExchangeRateInformation: AGREED } });
      const key = randomUUID();
      const created = await postSigned(t, `${pisp}/${type.consents}`, clientToken, consentBody, { key });
      const createdText = await created.text();
      expect(created.status, createdText).toBe(201);
      await verifyBankSignature(t, created, createdText);
      const consent = JSON.parse(createdText) as Consent;
      assertSpecResponse('pisp', `Create${type.stem}Consents`, 201, consent);
      expect(consent.Data.Status).toBe('AWAU');
      // The rate the bank applies: the agreed contract's (a standing order's Initiation carries none).
      const applied = type.kind === 'standing-order' ? undefined : { ...AGREED, ExpirationDateTime: '2099-12-31T23:59:59+00:00' };
      expect(consent.Data.ExchangeRateInformation).toEqual(applied);
      const again = (await (await postSigned(t, `${pisp}/${type.consents}`, clientToken, consentBody, { key })).json()) as Consent;
      expect(again.Data.ConsentId).toBe(consent.Data.ConsentId);

      const { tokens } = await authoriseFapi2(t, consent.Data.ConsentId, 'openid payments', { debtorAccount: 'acc-ukob1-current' });
      expect(tokens.refresh_token).toBeUndefined();
      const authorised = (await (await call(t, `${pisp}/${type.consents}/${consent.Data.ConsentId}`, { token: clientToken })).json()) as Consent;
      assertSpecResponse('pisp', `Get${type.stem}ConsentsConsentId`, 200, authorised);
      expect(authorised.Data.Status).toBe('AUTH');
      if (type.funds) {
        const funds = await call(t, `${pisp}/${type.consents}/${consent.Data.ConsentId}/funds-confirmation`, { token: tokens.access_token });
        const fundsBody = (await funds.json()) as Funds;
        assertSpecResponse('pisp', `Get${type.stem}ConsentsConsentIdFundsConfirmation`, 200, fundsBody);
        expect(fundsBody.Data.FundsAvailableResult.FundsAvailable).toBe(true);
      }

      const submitted = await postSigned(t, `${pisp}/${type.orders}`, tokens.access_token, paymentOrderBody(consent.Data.ConsentId, consentBody));
      const submittedText = await submitted.text();
      expect(submitted.status, submittedText).toBe(201);
      await verifyBankSignature(t, submitted, submittedText);
      const order = JSON.parse(submittedText) as Order;
      assertSpecResponse('pisp', `Create${type.stem}s`, 201, order);
      expect(order.Data).toMatchObject({ ConsentId: consent.Data.ConsentId, Status: 'PDNG' });
      expect(order.Data.ExchangeRateInformation).toEqual(applied);
      const orderId = order.Data[type.idName] as string;
      expect(orderId).toMatch(/.+/);
      expect(((await (await call(t, `${pisp}/${type.consents}/${consent.Data.ConsentId}`, { token: clientToken })).json()) as Consent).Data.Status).toBe('COND');

      // Single use: a second order under another key is refused.
      const second = await postSigned(t, `${pisp}/${type.orders}`, tokens.access_token, paymentOrderBody(consent.Data.ConsentId, consentBody));
      expect((await expectObError(second, 400, 'U009', 'Data.ConsentId')).Errors[0]!.Message).toContain('already consumed');

      const seen: string[] = [];
      for (let read = 0; read < type.life.length - 1; read++) {
        const body = (await (await call(t, `${pisp}/${type.orders}/${orderId}`, { token: clientToken })).json()) as Order;
        assertSpecResponse('pisp', `Get${type.stem}s${type.idParam}`, 200, body);
        seen.push(body.Data.Status);
      }
      expect(seen).toEqual(type.life.slice(1));
      const details = (await (await call(t, `${pisp}/${type.orders}/${orderId}/payment-details`, { token: clientToken })).json()) as { Data: { PaymentStatus: Array<{ Status: string }> } };
      assertSpecResponse('pisp', `Get${type.stem}s${type.idParam}PaymentDetails`, 200, details);
      expect(details.Data.PaymentStatus.map((s) => s.Status)).toEqual(type.life);
      await expectObError(await call(t, `${pisp}/${type.orders}/x-${randomUUID()}`, { token: clientToken }), 400, 'U011', type.idParam);
    });

    it('takes the instructed amount in GBP or the currency of transfer, and no other, nor a currency it does not send', async () => {
      const token = await clientCredentials(t, 'payments');
      const url = `${pisp}/${type.consents}`;
      expect((await postSigned(t, url, token, internationalConsentBody(type.kind, { initiation: { InstructedAmount: { Amount: '200.00', Currency: 'GBP' } } }))).status).toBe(201);
      await expectObError(await postSigned(t, url, token, internationalConsentBody(type.kind, { initiation: { InstructedAmount: { Amount: '200.00', Currency: 'USD' } } })), 400, 'U023', 'Data.Initiation.InstructedAmount.Currency');
      const unknown = await postSigned(t, url, token, internationalConsentBody(type.kind, { initiation: { CurrencyOfTransfer: 'XTS', InstructedAmount: { Amount: '200.00', Currency: 'XTS' } } }));
      assertSpecResponse('pisp', `Create${type.stem}Consents`, 400, await expectObError(unknown.clone(), 400, 'U023', 'Data.Initiation.CurrencyOfTransfer'));
    });
  });

  describe.each(TYPES.filter((type) => type.kind !== 'standing-order'))('the exchange rate of an international $kind', (type) => {
    const rated = (rate: Record<string, unknown> | undefined) => internationalConsentBody(type.kind, { initiation: { ExchangeRateInformation: rate } });
    const at = 'Data.Initiation.ExchangeRateInformation';

    it('answers the rate the bank applies: Actual and Indicative at its own rate, Indicative when none is asked for', async () => {
      const token = await clientCredentials(t, 'payments');
      const url = `${pisp}/${type.consents}`;
      for (const [asked, answered] of [
        [{ UnitCurrency: 'GBP', RateType: 'Actual' }, { UnitCurrency: 'GBP', RateType: 'Actual', ExchangeRate: 1.165 }],
        [{ UnitCurrency: 'EUR', RateType: 'Indicative' }, { UnitCurrency: 'EUR', RateType: 'Indicative', ExchangeRate: 0.858369 }],
        [undefined, { UnitCurrency: 'GBP', RateType: 'Indicative', ExchangeRate: 1.165 }],
      ] as const) {
        const consent = (await (await postSigned(t, url, token, rated(asked))).json()) as Consent;
        assertSpecResponse('pisp', `Create${type.stem}Consents`, 201, consent);
        expect(consent.Data.ExchangeRateInformation).toEqual(answered);
        const read = (await (await call(t, `${url}/${consent.Data.ConsentId}`, { token })).json()) as Consent;
        expect(read.Data.ExchangeRateInformation).toEqual(answered);
      }
      // No conversion, no rate.
      const sterling = (await (await postSigned(t, url, token, internationalConsentBody(type.kind, { initiation: { CurrencyOfTransfer: 'GBP', InstructedAmount: { Amount: '10.00', Currency: 'GBP' } } }))).json()) as Consent;
      expect(sterling.Data.ExchangeRateInformation).toBeUndefined();
    });

    it('refuses an Agreed rate whose contract it does not know, has expired, is for another pair or rate; a rate the bank sets given', async () => {
      const token = await clientCredentials(t, 'payments');
      const url = `${pisp}/${type.consents}`;
      const unknown = await expectObError(await postSigned(t, url, token, rated({ ...AGREED, ContractIdentification: 'FX-NOT-A-CONTRACT' })), 400, 'U002', `${at}.ContractIdentification`);
      expect(unknown.Errors[0]!.Message).toContain('not an FX contract');
      assertSpecResponse('pisp', `Create${type.stem}Consents`, 400, unknown);
      const expired = await expectObError(await postSigned(t, url, token, rated({ ...AGREED, ExchangeRate: 1.1795, ContractIdentification: 'FX-GBPEUR-2020-0001' })), 400, 'U002', `${at}.ContractIdentification`);
      expect(expired.Errors[0]!.Message).toContain('expired');
      await expectObError(await postSigned(t, url, token, rated({ ...AGREED, ExchangeRate: 1.2655, ContractIdentification: 'FX-GBPUSD-2026-0001' })), 400, 'U002', `${at}.ContractIdentification`);
      await expectObError(await postSigned(t, url, token, rated({ ...AGREED, ExchangeRate: 1.2 })), 400, 'U002', `${at}.ExchangeRate`);
      await expectObError(await postSigned(t, url, token, rated({ UnitCurrency: 'GBP', RateType: 'Agreed', ExchangeRate: 1.1612 })), 400, 'U002', `${at}.ContractIdentification`);
      await expectObError(await postSigned(t, url, token, rated({ UnitCurrency: 'GBP', RateType: 'Indicative', ExchangeRate: 1.3 })), 400, 'U002', `${at}.ExchangeRate`);
      await expectObError(await postSigned(t, url, token, rated({ UnitCurrency: 'USD', RateType: 'Actual' })), 400, 'U002', `${at}.UnitCurrency`);
    });
  });

  it('refuses the order of a consent whose Agreed rate’s contract expired since (control plane), the consent left AUTH', async () => {
    const rate = { UnitCurrency: 'GBP', RateType: 'Agreed', ExchangeRate: 1.1608, ContractIdentification: 'FX-GBPEUR-2026-0002' };
    const consentBody = internationalConsentBody('scheduled-payment', { initiation: { ExchangeRateInformation: rate } });
    const clientToken = await clientCredentials(t, 'payments');
    const consent = (await (await postSigned(t, `${pisp}/international-scheduled-payment-consents`, clientToken, consentBody)).json()) as Consent;
    expect(consent.Data.ExchangeRateInformation).toMatchObject(rate);
    const { tokens } = await authoriseFapi2(t, consent.Data.ConsentId, 'openid payments');
    const expired = await t.sandbox.fetch(t.sandbox.agents.none, `${t.sandbox.file.controlUrl}/ukob/fx-contracts/FX-GBPEUR-2026-0002/expire`, { method: 'POST' });
    expect(expired.status).toBe(200);
    const order = await postSigned(t, `${pisp}/international-scheduled-payments`, tokens.access_token, paymentOrderBody(consent.Data.ConsentId, consentBody));
    expect((await expectObError(order, 400, 'U002', 'Data.Initiation.ExchangeRateInformation.ContractIdentification')).Errors[0]!.Message).toContain('expired');
    expect(((await (await call(t, `${pisp}/international-scheduled-payment-consents/${consent.Data.ConsentId}`, { token: clientToken })).json()) as Consent).Data.Status).toBe('AUTH');
  });

  it('confirms funds and settles an international payment in GBP at the consent’s rate: not covered, not available, RJCT AM04', async () => {
    // 250 EUR at 1.165 is about 214.59 GBP: more than ukob-psu-2's business account holds.
    const consentBody = internationalConsentBody('payment');
    const consent = (await (await postSigned(t, `${pisp}/international-payment-consents`, await clientCredentials(t, 'payments'), consentBody)).json()) as Consent;
    const { tokens } = await authoriseFapi2(t, consent.Data.ConsentId, 'openid payments', { psuId: 'ukob-psu-2' });
    const funds = (await (await call(t, `${pisp}/international-payment-consents/${consent.Data.ConsentId}/funds-confirmation`, { token: tokens.access_token })).json()) as Funds;
    expect(funds.Data.FundsAvailableResult.FundsAvailable).toBe(false);
    const order = (await (await postSigned(t, `${pisp}/international-payments`, tokens.access_token, paymentOrderBody(consent.Data.ConsentId, consentBody))).json()) as Order;
    const status = (await (await call(t, `${pisp}/international-payments/${order.Data.InternationalPaymentId as string}`, { token: await clientCredentials(t, 'payments') })).json()) as Order;
    assertSpecResponse('pisp', 'GetInternationalPaymentsInternationalPaymentId', 200, status);
    expect(status.Data).toMatchObject({ Status: 'RJCT', StatusReason: [{ StatusReasonCode: 'AM04', StatusReasonDescription: 'Insufficient funds' }] });
  });

  it('checks an international scheduled payment’s execution date and standing order’s schedule like the domestic ones', async () => {
    const token = await clientCredentials(t, 'payments');
    await expectObError(
      await postSigned(t, `${pisp}/international-scheduled-payment-consents`, token, internationalConsentBody('scheduled-payment', { initiation: { RequestedExecutionDateTime: new Date(Date.now() - 86_400_000).toISOString() } })),
      400,
      'U003',
      'Data.Initiation.RequestedExecutionDateTime',
    );
    await expectObError(
      await postSigned(t, `${pisp}/international-standing-order-consents`, token, internationalConsentBody('standing-order', { initiation: { MandateRelatedInformation: { Frequency: { Type: 'IntrvlMnthDay:01:25' } } } })),
      400,
      'U002',
      'Data.Initiation.MandateRelatedInformation.FirstPaymentDateTime',
    );
  });
});
