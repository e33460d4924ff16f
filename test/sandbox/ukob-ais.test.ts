import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oauth from 'oauth4webapi';
import { manifests } from '../../generated/index.js';
import type { RecordedRequest } from '../../sandbox/stats.js';
import { AIS_PERMISSIONS, assertSpecResponse, authoriseFapi2, call, clientCredentials, expectObError, headers, intentClaims, pushAuthorizationRequest, startUkobTestSandbox, type UkobTestSandbox } from './ukob-helpers.js';

interface ConsentResponse {
  Data: { ConsentId: string; Status: string; Permissions: string[] };
}

describe('UK-OB-like sandbox bank: account information', () => {
  let t: UkobTestSandbox;
  let aisp: string;

  beforeAll(async () => {
    t = await startUkobTestSandbox('2.0');
    aisp = t.bank.apis.aisp!;
  });
  afterAll(async () => {
    await t?.close();
  });

  async function createConsent(data: Record<string, unknown>): Promise<Response> {
    return call(t, `${aisp}/account-access-consents`, { method: 'POST', token: await clientCredentials(t, 'accounts'), body: JSON.stringify({ Data: data, Risk: {} }), headers: headers() });
  }

  /** An authorised consent and the PSU's access token. */
  async function authorisedConsent(data: Record<string, unknown>, accounts?: string[], psuId = 'ukob-psu-1') {
    const created = await createConsent(data);
    expect(created.status).toBe(201);
    const consent = (await created.json()) as ConsentResponse;
    const { tokens } = await authoriseFapi2(t, consent.Data.ConsentId, 'openid accounts', { accounts, psuId });
    return { consentId: consent.Data.ConsentId, tokens };
  }

  it('serves the consented accounts, balances and transactions in the spec’s shape, playing back x-fapi-interaction-id', async () => {
    const created = await createConsent({ Permissions: AIS_PERMISSIONS });
    const consent = (await created.json()) as ConsentResponse;
    assertSpecResponse('aisp', 'CreateAccountAccessConsents', 201, consent);
    expect(consent.Data.Status).toBe('AWAU');
    const { tokens } = await authoriseFapi2(t, consent.Data.ConsentId, 'openid accounts', { accounts: ['acc-ukob1-current'] });

    const interactionId = randomUUID();
    const accounts = await call(t, `${aisp}/accounts`, { token: tokens.access_token, headers: { 'x-fapi-interaction-id': interactionId } });
    expect(accounts.status).toBe(200);
    expect(accounts.headers.get('x-fapi-interaction-id')).toBe(interactionId);
    const body = (await accounts.json()) as { Data: { Account: Array<{ AccountId: string; Account?: Array<{ SchemeName: string; Identification: string }> }> } };
    assertSpecResponse('aisp', 'GetAccounts', 200, body);
    expect(body.Data.Account.map((a) => a.AccountId)).toEqual(['acc-ukob1-current']);
    expect(body.Data.Account[0]!.Account).toEqual([{ SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: '40413271246830', Name: 'Ms Olivia Smith' }]);

    const one = await call(t, `${aisp}/accounts/acc-ukob1-current`, { token: tokens.access_token });
    assertSpecResponse('aisp', 'GetAccountsAccountId', 200, await one.json());
    // Without x-fapi-interaction-id the bank makes one up.
    expect(one.headers.get('x-fapi-interaction-id')).toMatch(/^[0-9a-f-]{36}$/);

    const balances = await call(t, `${aisp}/accounts/acc-ukob1-current/balances`, { token: tokens.access_token });
    const balanceBody = (await balances.json()) as { Data: { Balance: Array<{ Type: string; Amount: { Amount: string } }> } };
    assertSpecResponse('aisp', 'GetAccountsAccountIdBalances', 200, balanceBody);
    expect(balanceBody.Data.Balance.map((b) => [b.Type, b.Amount.Amount])).toEqual([
      ['CLBD', '3263.57'],
      ['ITAV', '3252.58'],
    ]);

    const transactions = await call(t, `${aisp}/accounts/acc-ukob1-current/transactions`, { token: tokens.access_token });
    const transactionBody = (await transactions.json()) as { Data: { Transaction: Array<{ Status: string; CreditDebitIndicator: string; TransactionInformation?: string }> } };
    assertSpecResponse('aisp', 'GetAccountsAccountIdTransactions', 200, transactionBody);
    expect(transactionBody.Data.Transaction).toHaveLength(5);
    expect(transactionBody.Data.Transaction.filter((x) => x.Status === 'PDNG')).toHaveLength(1);
    expect(transactionBody.Data.Transaction[0]!.TransactionInformation).toBe('SALARY Northwind Ltd');

    const recent = await call(t, `${aisp}/transactions?fromBookingDateTime=${new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 19)}`, { token: tokens.access_token });
    expect(((await recent.json()) as { Data: { Transaction: unknown[] } }).Data.Transaction).toHaveLength(2);

    const status = await call(t, `${aisp}/account-access-consents/${consent.Data.ConsentId}`, { token: await clientCredentials(t, 'accounts') });
    const statusBody = (await status.json()) as ConsentResponse;
    assertSpecResponse('aisp', 'GetAccountAccessConsentsConsentId', 200, statusBody);
    expect(statusBody.Data.Status).toBe('AUTH');
  });

  it('serves every account read of the spec, each in the spec’s shape', async () => {
    const all = [
      ...['ReadAccountsDetail', 'ReadBalances', 'ReadBeneficiariesDetail', 'ReadDirectDebits', 'ReadOffers', 'ReadPAN', 'ReadParty', 'ReadPartyPSU'],
      ...['ReadProducts', 'ReadScheduledPaymentsDetail', 'ReadStandingOrdersDetail', 'ReadStatementsDetail'],
      ...['ReadTransactionsDetail', 'ReadTransactionsCredits', 'ReadTransactionsDebits'],
    ];
    const { tokens } = await authorisedConsent({ Permissions: all });
    const reads = manifests.ukob.aisp.routes.filter((r) => r.method === 'get' && r.tokenKind === 'psu');
    expect(reads).toHaveLength(26);
    for (const route of reads) {
      const path = route.path.replace('{AccountId}', 'acc-ukob1-current').replace('{StatementId}', 'st-0001');
      const response = await call(t, `${aisp}${path}`, { token: tokens.access_token });
      const body: unknown = await response.json();
      const expected = route.path.includes('{StatementId}') ? 400 : 200;
      expect([route.operationId, response.status]).toEqual([route.operationId, expected]);
      assertSpecResponse('aisp', route.operationId, expected, body);
    }
  });

  it('refuses a client-credentials token on /accounts, and a PSU token on the consent endpoints', async () => {
    const clientToken = await clientCredentials(t, 'accounts');
    const accounts = await call(t, `${aisp}/accounts`, { token: clientToken });
    expect((await expectObError(accounts, 403, 'U042')).Message).toContain("a PSU's authorization-code token");

    const { consentId, tokens } = await authorisedConsent({ Permissions: ['ReadAccountsBasic'] });
    const consent = await call(t, `${aisp}/account-access-consents/${consentId}`, { token: tokens.access_token });
    expect((await expectObError(consent, 403, 'U042')).Message).toContain('a client-credentials token');
  });

  it('limits a PSU token to its consent: its accounts, its permissions, Basic or Detail, credits or debits', async () => {
    const { tokens } = await authorisedConsent({ Permissions: ['ReadAccountsBasic', 'ReadTransactionsBasic', 'ReadTransactionsCredits'] }, ['acc-ukob1-current']);
    const other = await call(t, `${aisp}/accounts/acc-ukob1-savings`, { token: tokens.access_token });
    expect((await expectObError(other, 403, 'U042')).Message).toContain('not in consent');
    const otherPsu = await call(t, `${aisp}/accounts/acc-ukob2-business/transactions`, { token: tokens.access_token });
    await expectObError(otherPsu, 403, 'U042');

    const balances = await call(t, `${aisp}/balances`, { token: tokens.access_token });
    expect((await expectObError(balances, 403, 'U042')).Message).toContain('does not grant ReadBalances');

    const accounts = (await (await call(t, `${aisp}/accounts`, { token: tokens.access_token })).json()) as { Data: { Account: Array<Record<string, unknown>> } };
    assertSpecResponse('aisp', 'GetAccounts', 200, accounts);
    expect(accounts.Data.Account[0]!.Account).toBeUndefined();

    const transactions = (await (await call(t, `${aisp}/transactions`, { token: tokens.access_token })).json()) as { Data: { Transaction: Array<Record<string, unknown>> } };
    expect(transactions.Data.Transaction.map((x) => x.CreditDebitIndicator)).toEqual(['Credit']);
    expect(transactions.Data.Transaction[0]!.TransactionInformation).toBeUndefined();
  });

  it('keeps transactions inside the consent’s window', async () => {
    const from = new Date(Date.now() - 6 * 86_400_000).toISOString();
    const to = new Date(Date.now() - 1 * 86_400_000).toISOString();
    const { tokens } = await authorisedConsent({ Permissions: ['ReadTransactionsDetail', 'ReadTransactionsDebits'], TransactionFromDateTime: from, TransactionToDateTime: to }, ['acc-ukob1-current']);
    const body = (await (await call(t, `${aisp}/transactions`, { token: tokens.access_token })).json()) as { Data: { Transaction: Array<{ TransactionReference: string }> } };
    expect(body.Data.Transaction.map((x) => x.TransactionReference)).toEqual(['CARD PAYMENT', 'CONTACTLESS']);
  });

  it('cancels a deleted consent: CANC, its tokens revoked (401 without a body), its refresh token dead', async () => {
    const { consentId, tokens } = await authorisedConsent({ Permissions: ['ReadAccountsBasic'] });
    expect((await call(t, `${aisp}/accounts`, { token: tokens.access_token })).status).toBe(200);
    const deleted = await call(t, `${aisp}/account-access-consents/${consentId}`, { method: 'DELETE', token: await clientCredentials(t, 'accounts') });
    expect(deleted.status).toBe(204);
    const status = (await (await call(t, `${aisp}/account-access-consents/${consentId}`, { token: await clientCredentials(t, 'accounts') })).json()) as ConsentResponse;
    expect(status.Data.Status).toBe('CANC');

    const after = await call(t, `${aisp}/accounts`, { token: tokens.access_token });
    expect(after.status).toBe(401);
    expect(after.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    expect(await after.text()).toBe('');
    const refresh = await oauth.refreshTokenGrantRequest(t.as, t.client, t.auth, tokens.refresh_token!, { [oauth.customFetch]: t.tppFetch });
    await expect(oauth.processRefreshTokenResponse(t.as, t.client, refresh)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('expires a consent at its ExpirationDateTime (EXPD), after which it cannot be authorised', async () => {
    const expiration = new Date(Date.now() + 2_000);
    const created = (await (await createConsent({ Permissions: ['ReadAccountsBasic'], ExpirationDateTime: expiration.toISOString() })).json()) as ConsentResponse;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiration.getTime() - Date.now()) + 50));
    const status = (await (await call(t, `${aisp}/account-access-consents/${created.Data.ConsentId}`, { token: await clientCredentials(t, 'accounts') })).json()) as ConsentResponse;
    expect(status.Data.Status).toBe('EXPD');
    const { response } = await pushAuthorizationRequest(t, 'openid accounts', intentClaims(created.Data.ConsentId));
    expect(await response.json()).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('is EXPD') });
  });

  it('validates consent requests against the spec and the permission rules (OBErrorResponse1 codes)', async () => {
    const unknownPermission = await expectObError(await createConsent({ Permissions: ['ReadEverything'] }), 400, 'U010');
    expect(unknownPermission.Errors[0]!.Path).toBe('Data.Permissions.0');
    assertSpecResponse('aisp', 'CreateAccountAccessConsents', 400, unknownPermission);
    const half = await expectObError(await createConsent({ Permissions: ['ReadTransactionsDetail'] }), 400, 'U002');
    expect(half.Errors[0]!.Path).toBe('Data.Permissions');
    const past = await expectObError(await createConsent({ Permissions: ['ReadAccountsBasic'], ExpirationDateTime: '2020-01-01T00:00:00+00:00' }), 400, 'U003');
    expect(past.Errors[0]!.Path).toBe('Data.ExpirationDateTime');
    const noRisk = await call(t, `${aisp}/account-access-consents`, { method: 'POST', token: await clientCredentials(t, 'accounts'), body: JSON.stringify({ Data: { Permissions: ['ReadAccountsBasic'] } }) });
    expect((await expectObError(noRisk, 400, 'U010')).Errors[0]!.Path).toBe('Risk');
    const text = await call(t, `${aisp}/account-access-consents`, { method: 'POST', token: await clientCredentials(t, 'accounts'), body: JSON.stringify({ Data: { Permissions: ['ReadAccountsBasic'] }, Risk: {} }), headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);
    const unknownConsent = await call(t, `${aisp}/account-access-consents/aac-${randomUUID()}`, { token: await clientCredentials(t, 'accounts') });
    expect((await expectObError(unknownConsent, 400, 'U011')).Errors[0]!.Path).toBe('ConsentId');
  });

  it('checks the FAPI headers and answers 404 without a body for a path the API does not have', async () => {
    const token = await clientCredentials(t, 'accounts');
    const badId = await call(t, `${aisp}/account-access-consents/x`, { token, headers: { 'x-fapi-interaction-id': 'not-a-uuid' } });
    expect((await expectObError(badId, 400, 'U006')).Errors[0]!.Path).toBe('x-fapi-interaction-id');
    expect(badId.headers.get('x-fapi-interaction-id')).toBe('not-a-uuid');
    const badDate = await call(t, `${aisp}/account-access-consents/x`, { token, headers: { 'x-fapi-auth-date': '2024-01-01' } });
    expect((await expectObError(badDate, 400, 'U006')).Errors[0]!.Path).toBe('x-fapi-auth-date');
    const unknown = await call(t, `${aisp}/nothing-here`, { token });
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toBe('');
  });

  it('refuses a token presented with another client certificate (RFC 8705 binding)', async () => {
    const token = await clientCredentials(t, 'accounts');
    const response = await call(t, `${aisp}/account-access-consents/x`, { token, agent: t.sandbox.agents.sg });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('bound to another client certificate');
  });

  it('records its requests and takes faults like the other banks', async () => {
    const token = await clientCredentials(t, 'accounts');
    const control = t.sandbox.file.controlUrl;
    const armed = await t.sandbox.fetch(t.sandbox.agents.none, `${control}/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ bank: 'ukob', target: 'resource', action: 'status', status: 503, pathPrefix: new URL(aisp).pathname }),
    });
    expect(armed.status).toBe(200);
    const interactionId = randomUUID();
    const faulted = await call(t, `${aisp}/accounts`, { token, headers: { 'x-fapi-interaction-id': interactionId } });
    expect((await expectObError(faulted, 503, 'U000')).Code).toBe('503 Service Unavailable');
    expect(faulted.headers.get('x-fapi-interaction-id')).toBe(interactionId);

    const recorded = (await (await t.sandbox.fetch(t.sandbox.agents.none, `${control}/requests?bank=ukob`)).json()) as RecordedRequest[];
    expect(recorded.at(-1)).toMatchObject({ bank: 'ukob', method: 'GET', status: 503, headers: expect.objectContaining({ 'x-fapi-interaction-id': interactionId }) });
    const stats = (await (await t.sandbox.fetch(t.sandbox.agents.none, `${control}/stats`)).json()) as { banks: Record<string, { tokenRequests: Record<string, number> }> };
    expect(stats.banks.ukob!.tokenRequests.client_credentials).toBeGreaterThan(0);
  });
});
