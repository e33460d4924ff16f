import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertSpecResponse, authoriseFapi2, call, clientCredentials, headers, startUkobTestSandbox, type UkobTestSandbox } from './ukob-helpers.js';

interface Consent {
  Data: { ConsentId: string; Status: string };
}

describe('UK-OB-like sandbox bank: confirmation of funds, and what it does not serve', () => {
  let t: UkobTestSandbox;
  let cbpii: string;
  const debtor = { SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: '40413271246830', Name: 'Ms Olivia Smith' };

  beforeAll(async () => {
    t = await startUkobTestSandbox('2.0');
    cbpii = t.bank.apis.cbpii!;
  });
  afterAll(async () => {
    await t?.close();
  });

  async function consent(): Promise<Consent> {
    const response = await call(t, `${cbpii}/funds-confirmation-consents`, { method: 'POST', token: await clientCredentials(t, 'fundsconfirmations'), body: JSON.stringify({ Data: { DebtorAccount: debtor } }), headers: headers() });
    const body = (await response.json()) as Consent;
    expect(response.status).toBe(201);
    assertSpecResponse('cbpii', 'CreateFundsConfirmationConsents', 201, body);
    return body;
  }

  function confirm(token: string, consentId: string, amount: string): Promise<Response> {
    return call(t, `${cbpii}/funds-confirmations`, { method: 'POST', token, body: JSON.stringify({ Data: { ConsentId: consentId, Reference: 'Purchase01', InstructedAmount: { Amount: amount, Currency: 'GBP' } } }) });
  }

  it('confirms funds on the consented account for its PSU, until the consent is deleted', async () => {
    const created = await consent();
    const { tokens } = await authoriseFapi2(t, created.Data.ConsentId, 'openid fundsconfirmations');
    expect(tokens.refresh_token).toBeTruthy();
    const enough = await confirm(tokens.access_token, created.Data.ConsentId, '100.00');
    const enoughBody = (await enough.json()) as { Data: { FundsAvailable: boolean } };
    expect(enough.status).toBe(201);
    assertSpecResponse('cbpii', 'CreateFundsConfirmations', 201, enoughBody);
    expect(enoughBody.Data.FundsAvailable).toBe(true);
    const tooMuch = (await (await confirm(tokens.access_token, created.Data.ConsentId, '10000.00')).json()) as { Data: { FundsAvailable: boolean } };
    expect(tooMuch.Data.FundsAvailable).toBe(false);

    const clientToken = await clientCredentials(t, 'fundsconfirmations');
    const status = (await (await call(t, `${cbpii}/funds-confirmation-consents/${created.Data.ConsentId}`, { token: clientToken })).json()) as Consent;
    assertSpecResponse('cbpii', 'GetFundsConfirmationConsentsConsentId', 200, status);
    expect(status.Data.Status).toBe('AUTH');
    expect((await call(t, `${cbpii}/funds-confirmation-consents/${created.Data.ConsentId}`, { method: 'DELETE', token: clientToken })).status).toBe(204);
    expect((await confirm(tokens.access_token, created.Data.ConsentId, '1.00')).status).toBe(401);
  });

  it('lets only the PSU holding the DebtorAccount authorise it', async () => {
    const created = await consent();
    await expect(authoriseFapi2(t, created.Data.ConsentId, 'openid fundsconfirmations', { psuId: 'ukob-psu-2' })).rejects.toMatchObject({ name: 'HeadlessConsentError' });
  });

  it('routes the operations it does not implement (other payment types) and answers 501', async () => {
    const response = await call(t, `${t.bank.apis.pisp}/file-payment-consents/x`, { token: await clientCredentials(t, 'payments') });
    expect(response.status).toBe(501);
    expect(((await response.json()) as { Errors: Array<{ ErrorCode: string; Message: string }> }).Errors[0]).toMatchObject({ ErrorCode: 'U000', Message: 'GetFilePaymentConsentsConsentId is not implemented by the sandbox' });
  });
});
