/**
 * The UK-OB-like sandbox bank's domestic scheduled payments and standing orders (PISP 4.0): each a signed, idempotent,
 * single-use consent the PSU authorises like a domestic payment, then one payment order with the PSU's token, equal to
 * its consent; what the bank checks of their dates, frequency and currency; every answer in the spec's shape.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertSpecResponse, authoriseFapi2, call, clientCredentials, daysFromNow, domesticPaymentConsentBody, expectObError, paymentOrderBody, postSigned, scheduledPaymentConsentBody, standingOrderConsentBody, startUkobTestSandbox, verifyBankSignature, type UkobTestSandbox } from './ukob-helpers.js';

interface Consent {
  Data: { ConsentId: string; Status: string };
}
type Order = { Data: Record<string, string> & { ConsentId: string; Status: string } };

/** The two payment order types, by their spec names. */
const TYPES = [
  { what: 'scheduled payment', consents: 'domestic-scheduled-payment-consents', orders: 'domestic-scheduled-payments', stem: 'DomesticScheduledPayment', idName: 'DomesticScheduledPaymentId', body: () => scheduledPaymentConsentBody(), life: ['PDNG', 'ACSP', 'ACSC'] },
  { what: 'standing order', consents: 'domestic-standing-order-consents', orders: 'domestic-standing-orders', stem: 'DomesticStandingOrder', idName: 'DomesticStandingOrderId', body: () => standingOrderConsentBody(), life: ['PDNG', 'ACTC'] },
] as const;

describe('UK-OB-like sandbox bank: domestic scheduled payments and standing orders', () => {
  let t: UkobTestSandbox;
  let pisp: string;

  beforeAll(async () => {
    t = await startUkobTestSandbox('2.0');
    pisp = t.bank.apis.pisp!;
  });
  afterAll(async () => {
    await t?.close();
  });

  describe.each(TYPES)('a domestic $what', (type) => {
    it('goes from its signed consent through the PSU’s authorisation to one payment order, read back to its final status', async () => {
      const clientToken = await clientCredentials(t, 'payments');
      const consentBody = type.body();
      const key = randomUUID();
      const created = await postSigned(t, `${pisp}/${type.consents}`, clientToken, consentBody, { key });
      const createdText = await created.text();
      expect(created.status, createdText).toBe(201);
      await verifyBankSignature(t, created, createdText);
      const consent = JSON.parse(createdText) as Consent;
      assertSpecResponse('pisp', `Create${type.stem}Consents`, 201, consent);
      expect(consent.Data.Status).toBe('AWAU');
      // Idempotent: the same key and body, the same consent.
      const again = (await (await postSigned(t, `${pisp}/${type.consents}`, clientToken, consentBody, { key })).json()) as Consent;
      expect(again.Data.ConsentId).toBe(consent.Data.ConsentId);

      const { tokens } = await authoriseFapi2(t, consent.Data.ConsentId, 'openid payments', { debtorAccount: 'acc-ukob1-current' });
      expect(tokens.refresh_token).toBeUndefined();
      const authorised = (await (await call(t, `${pisp}/${type.consents}/${consent.Data.ConsentId}`, { token: clientToken })).json()) as Consent;
      assertSpecResponse('pisp', `Get${type.stem}ConsentsConsentId`, 200, authorised);
      expect(authorised.Data.Status).toBe('AUTH');

      const submitted = await postSigned(t, `${pisp}/${type.orders}`, tokens.access_token, paymentOrderBody(consent.Data.ConsentId, consentBody));
      const submittedText = await submitted.text();
      expect(submitted.status, submittedText).toBe(201);
      await verifyBankSignature(t, submitted, submittedText);
      const order = JSON.parse(submittedText) as Order;
      assertSpecResponse('pisp', `Create${type.stem}s`, 201, order);
      expect(order.Data).toMatchObject({ ConsentId: consent.Data.ConsentId, Status: 'PDNG' });
      const orderId = order.Data[type.idName]!;
      expect(orderId).toMatch(/.+/);
      const consumed = (await (await call(t, `${pisp}/${type.consents}/${consent.Data.ConsentId}`, { token: clientToken })).json()) as Consent;
      expect(consumed.Data.Status).toBe('COND');

      // Single use: a second order under another key is refused.
      const second = await postSigned(t, `${pisp}/${type.orders}`, tokens.access_token, paymentOrderBody(consent.Data.ConsentId, consentBody));
      expect((await expectObError(second, 400, 'U009', 'Data.ConsentId')).Errors[0]!.Message).toContain('already consumed');

      const seen: string[] = [];
      for (let read = 0; read < type.life.length - 1; read++) {
        const status = await call(t, `${pisp}/${type.orders}/${orderId}`, { token: clientToken });
        const body = (await status.json()) as Order;
        assertSpecResponse('pisp', `Get${type.stem}s${type.idName}`, 200, body);
        seen.push(body.Data.Status);
      }
      expect(seen).toEqual(type.life.slice(1));
      const details = await call(t, `${pisp}/${type.orders}/${orderId}/payment-details`, { token: clientToken });
      const detailsBody = (await details.json()) as { Data: { PaymentStatus: Array<{ Status: string }> } };
      assertSpecResponse('pisp', `Get${type.stem}s${type.idName}PaymentDetails`, 200, detailsBody);
      expect(detailsBody.Data.PaymentStatus.map((s) => s.Status)).toEqual(type.life);
      await expectObError(await call(t, `${pisp}/${type.orders}/x-${randomUUID()}`, { token: clientToken }), 400, 'U011', type.idName);
    });

    it('refuses an order that differs from its consent, or with the token of another kind of payment consent', async () => {
      const consentBody = type.body();
      const consent = (await (await postSigned(t, `${pisp}/${type.consents}`, await clientCredentials(t, 'payments'), consentBody)).json()) as Consent;
      const { tokens } = await authoriseFapi2(t, consent.Data.ConsentId, 'openid payments');
      const changed = paymentOrderBody(consent.Data.ConsentId, consentBody) as { Data: { Initiation: { RemittanceInformation: { Reference: string } } } };
      changed.Data.Initiation.RemittanceInformation.Reference = 'CHANGED';
      await expectObError(await postSigned(t, `${pisp}/${type.orders}`, tokens.access_token, changed), 400, 'U008', 'Data.Initiation.RemittanceInformation.Reference');

      // A domestic payment consent's token is not this consent's, whatever ConsentId the body names.
      const payment = domesticPaymentConsentBody();
      const other = (await (await postSigned(t, `${pisp}/domestic-payment-consents`, await clientCredentials(t, 'payments'), payment)).json()) as Consent;
      const otherTokens = (await authoriseFapi2(t, other.Data.ConsentId, 'openid payments')).tokens;
      await expectObError(await postSigned(t, `${pisp}/${type.orders}`, otherTokens.access_token, paymentOrderBody(consent.Data.ConsentId, consentBody)), 403, 'U042');
      // Neither consumed the consent.
      expect((await postSigned(t, `${pisp}/${type.orders}`, tokens.access_token, paymentOrderBody(consent.Data.ConsentId, consentBody))).status).toBe(201);
    });
  });

  it('refuses a scheduled payment whose execution date is not in the future, and another currency than GBP', async () => {
    const token = await clientCredentials(t, 'payments');
    const past = await postSigned(t, `${pisp}/domestic-scheduled-payment-consents`, token, scheduledPaymentConsentBody({ executeAt: daysFromNow(-1) }));
    const error = await expectObError(past, 400, 'U003', 'Data.Initiation.RequestedExecutionDateTime');
    assertSpecResponse('pisp', 'CreateDomesticScheduledPaymentConsents', 400, error);
    const euro = scheduledPaymentConsentBody();
    euro.Data.Initiation.InstructedAmount.Currency = 'EUR';
    await expectObError(await postSigned(t, `${pisp}/domestic-scheduled-payment-consents`, token, euro), 400, 'U023', 'Data.Initiation.InstructedAmount.Currency');
    const noDate = scheduledPaymentConsentBody() as { Data: { Initiation: Record<string, unknown> } };
    delete noDate.Data.Initiation.RequestedExecutionDateTime;
    await expectObError(await postSigned(t, `${pisp}/domestic-scheduled-payment-consents`, token, noDate), 400, 'U010', 'Data.Initiation.RequestedExecutionDateTime');
  });

  it('refuses a scheduled payment submitted once its execution date has passed', async () => {
    // Three seconds ahead: the consent created in time (the bank checks the date then), submitted after it.
    const consentBody = scheduledPaymentConsentBody({ executeAt: new Date(Date.now() + 3_000).toISOString() });
    const consent = (await (await postSigned(t, `${pisp}/domestic-scheduled-payment-consents`, await clientCredentials(t, 'payments'), consentBody)).json()) as Consent;
    const { tokens } = await authoriseFapi2(t, consent.Data.ConsentId, 'openid payments');
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(consentBody.Data.Initiation.RequestedExecutionDateTime) - Date.now() + 10)));
    await expectObError(await postSigned(t, `${pisp}/domestic-scheduled-payments`, tokens.access_token, paymentOrderBody(consent.Data.ConsentId, consentBody)), 400, 'U003', 'Data.Initiation.RequestedExecutionDateTime');
  });

  it('checks a standing order’s schedule: the first date given and ahead, later dates after it, one end, the frequency’s syntax, GBP', async () => {
    const token = await clientCredentials(t, 'payments');
    const url = `${pisp}/domestic-standing-order-consents`;
    const mandate = 'Data.Initiation.MandateRelatedInformation';
    await expectObError(await postSigned(t, url, token, standingOrderConsentBody({ mandate: { FirstPaymentDateTime: undefined } })), 400, 'U002', `${mandate}.FirstPaymentDateTime`);
    await expectObError(await postSigned(t, url, token, standingOrderConsentBody({ mandate: { FirstPaymentDateTime: daysFromNow(-2) } })), 400, 'U003', `${mandate}.FirstPaymentDateTime`);
    await expectObError(await postSigned(t, url, token, standingOrderConsentBody({ mandate: { RecurringPaymentDateTime: daysFromNow(3) } })), 400, 'U003', `${mandate}.RecurringPaymentDateTime`);
    await expectObError(
      await postSigned(t, url, token, standingOrderConsentBody({ mandate: { FinalPaymentDateTime: daysFromNow(400) } })),
      400,
      'U002',
      'Data.Initiation.NumberOfPayments',
    );
    // Without NumberOfPayments, a final date is the end.
    expect((await postSigned(t, url, token, standingOrderConsentBody({ mandate: { FinalPaymentDateTime: daysFromNow(400) }, initiation: { NumberOfPayments: undefined } }))).status).toBe(201);
    // The frequency's syntax is the spec's (OBFrequency6Code or the ISO pattern); its two modifiers not together.
    await expectObError(await postSigned(t, url, token, standingOrderConsentBody({ mandate: { Frequency: { Type: 'IntrvlMnthDay:07:25' } } })), 400, 'U010', `${mandate}.Frequency.Type`);
    await expectObError(await postSigned(t, url, token, standingOrderConsentBody({ mandate: { Frequency: { Type: 'MNTH', CountPerPeriod: 1, PointInTime: '25' } } })), 400, 'U002', `${mandate}.Frequency.PointInTime`);
    expect((await postSigned(t, url, token, standingOrderConsentBody({ mandate: { Frequency: { Type: 'MNTH', PointInTime: '25' } } }))).status).toBe(201);
    await expectObError(
      await postSigned(t, url, token, standingOrderConsentBody({ initiation: { RecurringPaymentAmount: { Amount: '100.00', Currency: 'EUR' } } })),
      400,
      'U023',
      'Data.Initiation.RecurringPaymentAmount.Currency',
    );
  });
});
