import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { importPKCS8, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertSpecResponse, authoriseFapi2, call, clientCredentials, domesticPaymentBody, domesticPaymentConsentBody, expectObError, OB_IAT, OB_ISS, OB_TAN, postSigned, signJws, startUkobTestSandbox, verifyBankSignature, type UkobTestSandbox } from './ukob-helpers.js';

interface PaymentConsent {
  Data: { ConsentId: string; Status: string };
}

interface Payment {
  Data: { DomesticPaymentId: string; ConsentId: string; Status: string; StatusReason?: Array<{ StatusReasonCode: string }> };
}

describe('UK-OB-like sandbox bank: domestic payments', () => {
  let t: UkobTestSandbox;
  let pisp: string;

  beforeAll(async () => {
    t = await startUkobTestSandbox('2.0');
    pisp = t.bank.apis.pisp!;
  });
  afterAll(async () => {
    await t?.close();
  });

  /** A consent created and authorised by the PSU; the PSU's token and the consent's body. */
  async function authorisedPayment(options: { amount?: string; psuId?: string; debtorAccount?: string } = {}) {
    const body = domesticPaymentConsentBody({ amount: options.amount });
    const created = await postSigned(t, `${pisp}/domestic-payment-consents`, await clientCredentials(t, 'payments'), body);
    expect(created.status).toBe(201);
    const consent = (await created.json()) as PaymentConsent;
    const { tokens } = await authoriseFapi2(t, consent.Data.ConsentId, 'openid payments', { psuId: options.psuId, debtorAccount: options.debtorAccount });
    return { consentId: consent.Data.ConsentId, body, psuToken: tokens.access_token, tokens };
  }

  it('takes a domestic payment from its consent to its final status, every answer signed by the bank', async () => {
    const clientToken = await clientCredentials(t, 'payments');
    const consentBody = domesticPaymentConsentBody();
    const created = await postSigned(t, `${pisp}/domestic-payment-consents`, clientToken, consentBody);
    const createdText = await created.text();
    expect(created.status, createdText).toBe(201);
    const consent = JSON.parse(createdText) as PaymentConsent;
    assertSpecResponse('pisp', 'CreateDomesticPaymentConsents', 201, consent);
    expect(consent.Data.Status).toBe('AWAU');
    const signed = await verifyBankSignature(t, created, createdText);
    expect(signed).toMatchObject({ alg: 'PS256', kid: t.bank.bankSigning.keyId, [OB_ISS]: t.bank.bankSigning.issuer, [OB_TAN]: 'openbanking.org.uk', crit: [OB_IAT, OB_ISS, OB_TAN] });

    const { tokens } = await authoriseFapi2(t, consent.Data.ConsentId, 'openid payments', { debtorAccount: 'acc-ukob1-current' });
    expect(tokens.refresh_token).toBeUndefined();
    const authorised = (await (await call(t, `${pisp}/domestic-payment-consents/${consent.Data.ConsentId}`, { token: clientToken })).json()) as PaymentConsent;
    assertSpecResponse('pisp', 'GetDomesticPaymentConsentsConsentId', 200, authorised);
    expect(authorised.Data.Status).toBe('AUTH');

    const funds = await call(t, `${pisp}/domestic-payment-consents/${consent.Data.ConsentId}/funds-confirmation`, { token: tokens.access_token });
    const fundsBody = (await funds.json()) as { Data: { FundsAvailableResult: { FundsAvailable: boolean } } };
    assertSpecResponse('pisp', 'GetDomesticPaymentConsentsConsentIdFundsConfirmation', 200, fundsBody);
    expect(fundsBody.Data.FundsAvailableResult.FundsAvailable).toBe(true);

    const submitted = await postSigned(t, `${pisp}/domestic-payments`, tokens.access_token, domesticPaymentBody(consent.Data.ConsentId, consentBody));
    const submittedText = await submitted.text();
    expect(submitted.status, submittedText).toBe(201);
    await verifyBankSignature(t, submitted, submittedText);
    const payment = JSON.parse(submittedText) as Payment;
    assertSpecResponse('pisp', 'CreateDomesticPayments', 201, payment);
    expect(payment.Data).toMatchObject({ ConsentId: consent.Data.ConsentId, Status: 'PDNG' });

    const consumed = (await (await call(t, `${pisp}/domestic-payment-consents/${consent.Data.ConsentId}`, { token: clientToken })).json()) as PaymentConsent;
    expect(consumed.Data.Status).toBe('COND');

    // Followed with the client-credentials token until a final status: each read is one step.
    const seen: string[] = [];
    for (let read = 0; read < 3 && !['ACSC', 'RJCT'].includes(seen.at(-1) ?? ''); read++) {
      const status = await call(t, `${pisp}/domestic-payments/${payment.Data.DomesticPaymentId}`, { token: clientToken });
      const text = await status.text();
      await verifyBankSignature(t, status, text);
      const body = JSON.parse(text) as Payment;
      assertSpecResponse('pisp', 'GetDomesticPaymentsDomesticPaymentId', 200, body);
      seen.push(body.Data.Status);
    }
    expect(seen).toEqual(['ACSP', 'ACSC']);
    const details = await call(t, `${pisp}/domestic-payments/${payment.Data.DomesticPaymentId}/payment-details`, { token: clientToken });
    const detailsBody = (await details.json()) as { Data: { PaymentStatus: Array<{ Status: string }> } };
    assertSpecResponse('pisp', 'GetDomesticPaymentsDomesticPaymentIdPaymentDetails', 200, detailsBody);
    expect(detailsBody.Data.PaymentStatus.map((s) => s.Status)).toEqual(['PDNG', 'ACSP', 'ACSC']);
  });

  it('refuses a replayed payment: the same key and body get the first answer, a new key is refused (single use)', async () => {
    const { consentId, body, psuToken } = await authorisedPayment();
    const key = randomUUID();
    const paymentBody = domesticPaymentBody(consentId, body);
    const first = await postSigned(t, `${pisp}/domestic-payments`, psuToken, paymentBody, { key });
    expect(first.status).toBe(201);
    const firstPayment = (await first.json()) as Payment;
    const retried = await postSigned(t, `${pisp}/domestic-payments`, psuToken, paymentBody, { key });
    expect(retried.status).toBe(201);
    expect(((await retried.json()) as Payment).Data.DomesticPaymentId).toBe(firstPayment.Data.DomesticPaymentId);

    const replayed = await postSigned(t, `${pisp}/domestic-payments`, psuToken, paymentBody);
    const error = await expectObError(replayed, 400, 'U009', 'Data.ConsentId');
    expect(error.Errors[0]!.Message).toContain('already consumed');
    assertSpecResponse('pisp', 'CreateDomesticPayments', 400, error);
  });

  it('refuses the same idempotency key with another body, and replays the consent for the same one', async () => {
    const token = await clientCredentials(t, 'payments');
    const key = randomUUID();
    const body = domesticPaymentConsentBody();
    const first = (await (await postSigned(t, `${pisp}/domestic-payment-consents`, token, body, { key })).json()) as PaymentConsent;
    const again = (await (await postSigned(t, `${pisp}/domestic-payment-consents`, token, body, { key })).json()) as PaymentConsent;
    expect(again.Data.ConsentId).toBe(first.Data.ConsentId);
    const changed = await postSigned(t, `${pisp}/domestic-payment-consents`, token, domesticPaymentConsentBody({ amount: '99.99' }), { key });
    expect((await expectObError(changed, 400, 'U006', 'x-idempotency-key')).Errors[0]!.Message).toContain('another request body');
    // Two at once under one key: one consent.
    const concurrentKey = randomUUID();
    const concurrent = await Promise.all([1, 2].map(() => postSigned(t, `${pisp}/domestic-payment-consents`, token, body, { key: concurrentKey })));
    const ids = await Promise.all(concurrent.map(async (r) => ((await r.json()) as PaymentConsent).Data.ConsentId));
    expect(ids[0]).toBe(ids[1]);
    const tooLong = await postSigned(t, `${pisp}/domestic-payment-consents`, token, body, { key: 'k'.repeat(41) });
    await expectObError(tooLong, 400, 'U006', 'x-idempotency-key');
  });

  it('refuses a payment whose Initiation or Risk differs from the consent’s, or that names another consent', async () => {
    const { consentId, body, psuToken } = await authorisedPayment();
    const more = domesticPaymentBody(consentId, body);
    more.Data.Initiation.InstructedAmount.Amount = '12.51';
    await expectObError(await postSigned(t, `${pisp}/domestic-payments`, psuToken, more), 400, 'U008', 'Data.Initiation.InstructedAmount.Amount');
    const risk = domesticPaymentBody(consentId, body);
    risk.Risk.PaymentContextCode = 'TransferToSelf';
    await expectObError(await postSigned(t, `${pisp}/domestic-payments`, psuToken, risk), 400, 'U008', 'Risk.PaymentContextCode');
    const other = await authorisedPayment();
    await expectObError(await postSigned(t, `${pisp}/domestic-payments`, psuToken, domesticPaymentBody(other.consentId, other.body)), 400, 'U008', 'Data.ConsentId');
    // None of these consumed the consent.
    expect((await postSigned(t, `${pisp}/domestic-payments`, psuToken, domesticPaymentBody(consentId, body))).status).toBe(201);
  });

  it('rejects a payment the debtor account cannot cover (RJCT, AM04) and says so in the funds confirmation', async () => {
    const { consentId, body, psuToken } = await authorisedPayment({ amount: '500.00', psuId: 'ukob-psu-2' });
    const funds = (await (await call(t, `${pisp}/domestic-payment-consents/${consentId}/funds-confirmation`, { token: psuToken })).json()) as { Data: { FundsAvailableResult: { FundsAvailable: boolean } } };
    expect(funds.Data.FundsAvailableResult.FundsAvailable).toBe(false);
    const payment = (await (await postSigned(t, `${pisp}/domestic-payments`, psuToken, domesticPaymentBody(consentId, body))).json()) as Payment;
    const status = (await (await call(t, `${pisp}/domestic-payments/${payment.Data.DomesticPaymentId}`, { token: await clientCredentials(t, 'payments') })).json()) as Payment;
    assertSpecResponse('pisp', 'GetDomesticPaymentsDomesticPaymentId', 200, status);
    expect(status.Data.Status).toBe('RJCT');
    expect(status.Data.StatusReason).toEqual([{ StatusReasonCode: 'AM04', StatusReasonDescription: 'Insufficient funds' }]);
  });

  describe('x-jws-signature', () => {
    let token: string;
    const url = () => `${pisp}/domestic-payment-consents`;
    beforeAll(async () => {
      token = await clientCredentials(t, 'payments');
    });

    it('refuses a tampered body (U015)', async () => {
      const body = domesticPaymentConsentBody();
      const jws = await signJws(t, JSON.stringify(body));
      const tampered = structuredClone(body);
      tampered.Data.Initiation.InstructedAmount.Amount = '1250.00';
      const error = await expectObError(await postSigned(t, url(), token, tampered, { jws }), 400, 'U015');
      expect(error.Errors[0]!.Message).toContain('does not verify');
    });

    it('refuses a missing or malformed signature (U019, U018)', async () => {
      const text = JSON.stringify(domesticPaymentConsentBody());
      const missing = await call(t, url(), { method: 'POST', token, body: text, headers: { 'x-idempotency-key': randomUUID() } });
      await expectObError(missing, 400, 'U019', 'x-jws-signature');
      const attached = (await signJws(t, text)).replace('..', `.${Buffer.from(text).toString('base64url')}.`);
      await expectObError(await postSigned(t, url(), token, JSON.parse(text), { jws: attached }), 400, 'U018');
    });

    it('checks the critical claims: crit, iat bounds, iss, tan, kid, alg (U016, U017)', async () => {
      const body = domesticPaymentConsentBody();
      const now = Math.floor(Date.now() / 1000);
      await expectObError(await postSigned(t, url(), token, body, { jwsOptions: { crit: [OB_IAT, OB_ISS] } }), 400, 'U017', 'crit');
      await expectObError(await postSigned(t, url(), token, body, { jwsOptions: { iat: now - 3600 } }), 400, 'U016', OB_IAT);
      await expectObError(await postSigned(t, url(), token, body, { jwsOptions: { iat: now + 3600 } }), 400, 'U016', OB_IAT);
      await expectObError(await postSigned(t, url(), token, body, { jwsOptions: { iss: '0015800001OTHERTPP/someoneElse' } }), 400, 'U016', OB_ISS);
      await expectObError(await postSigned(t, url(), token, body, { jwsOptions: { tan: 'example.com' } }), 400, 'U016', OB_TAN);
      await expectObError(await postSigned(t, url(), token, body, { jwsOptions: { kid: 'unknown-kid' } }), 400, 'U016', 'kid');
      const rs256 = (await importPKCS8(await readFile(t.bank.signing.keyFile, 'utf8'), 'RS256')) as CryptoKey;
      await expectObError(await postSigned(t, url(), token, body, { jwsOptions: { alg: 'RS256', key: rs256 } }), 400, 'U016', 'alg');
    });

    it('accepts the b64=false form of older clients', async () => {
      const response = await postSigned(t, url(), token, domesticPaymentConsentBody(), { jwsOptions: { unencoded: true } });
      expect(response.status).toBe(201);
    });

    it('also verifies the payment submission, with the PSU token', async () => {
      const { consentId, body, psuToken } = await authorisedPayment();
      const paymentBody = domesticPaymentBody(consentId, body);
      const jws = await signJws(t, JSON.stringify(paymentBody));
      paymentBody.Data.Initiation.RemittanceInformation.Reference = 'INV-9999';
      await expectObError(await postSigned(t, `${pisp}/domestic-payments`, psuToken, paymentBody, { jws }), 400, 'U015');
    });
  });

  it('validates the consent request against the spec and the bank’s rules', async () => {
    const token = await clientCredentials(t, 'payments');
    const noCreditor = domesticPaymentConsentBody() as { Data: { Initiation: Record<string, unknown> } };
    delete noCreditor.Data.Initiation.CreditorAccount;
    await expectObError(await postSigned(t, `${pisp}/domestic-payment-consents`, token, noCreditor), 400, 'U010', 'Data.Initiation.CreditorAccount');
    const euro = domesticPaymentConsentBody();
    euro.Data.Initiation.InstructedAmount.Currency = 'EUR';
    await expectObError(await postSigned(t, `${pisp}/domestic-payment-consents`, token, euro), 400, 'U023', 'Data.Initiation.InstructedAmount.Currency');
    const unknown = await call(t, `${pisp}/domestic-payment-consents/pdc-${randomUUID()}`, { token });
    await expectObError(unknown, 400, 'U011', 'ConsentId');
  });

  it('lets only the PSU holding the consent’s DebtorAccount authorise it', async () => {
    const debtor = { SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: '40413271246849', Name: 'Ms Olivia Smith' };
    const body = domesticPaymentConsentBody({ debtor });
    const consent = (await (await postSigned(t, `${pisp}/domestic-payment-consents`, await clientCredentials(t, 'payments'), body)).json()) as PaymentConsent;
    await expect(authoriseFapi2(t, consent.Data.ConsentId, 'openid payments', { psuId: 'ukob-psu-2' })).rejects.toMatchObject({
      name: 'HeadlessConsentError',
      message: expect.stringContaining('DebtorAccount is not an account of ukob-psu-2'),
    });
    const { tokens } = await authoriseFapi2(t, consent.Data.ConsentId, 'openid payments', { psuId: 'ukob-psu-1' });
    expect((await postSigned(t, `${pisp}/domestic-payments`, tokens.access_token, domesticPaymentBody(consent.Data.ConsentId, body))).status).toBe(201);
  });

  it('keeps payment tokens to payments: an AIS-scoped operation with a payment token is refused', async () => {
    const { psuToken } = await authorisedPayment();
    const accounts = await call(t, `${t.bank.apis.aisp}/accounts`, { token: psuToken });
    await expectObError(accounts, 403, 'U042');
  });
});
