/**
 * UK Open Banking account access through the gateway against the sandbox's FAPI 2.0 bank: `POST /connections`
 * creates the intent with the client-credentials token (private_key_jwt, certificate-bound) and pushes the
 * authorization request bound to it (PAR, PKCE, the essential `openbanking_intent_id` claim); the PSU approves at the
 * bank; the callback checks `iss`, exchanges the code and the id_token's intent; accounts come through the gateway
 * with the PSU's token. oidc-provider and the sandbox's resource server check everything the bank checks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUkobGateway, type UkobGateway } from './ukob-gateway.js';

interface ObAccounts {
  Data: { Account: { AccountId: string }[] };
}

describe('UK Open Banking AIS through the gateway (FAPI 2.0 sandbox)', () => {
  let g: UkobGateway;
  beforeAll(async () => {
    g = await startUkobGateway('2.0');
  });
  afterAll(() => g?.close());

  it('creates the intent, pushes the bound authorization request, completes the consent and serves accounts', async () => {
    const started = await g.begin('ukob-1', {}, { psu: { ipAddress: '203.0.113.9' } });
    expect(started.status).toBe('pending');
    // FAPI 2.0: the PSU's URL carries client_id and the request_uri of the pushed request only.
    const authorize = new URL(started.authorizeUrl);
    expect([...authorize.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);

    const intentCreation = (await g.bankRequests()).find((r) => r.method === 'POST' && r.path.endsWith('/account-access-consents'));
    expect(intentCreation?.status).toBe(201);
    expect(intentCreation?.headers['x-fapi-customer-ip-address']).toBe('203.0.113.9');
    expect(intentCreation?.headers['x-fapi-interaction-id']).toMatch(/^[0-9a-f-]{36}$/);

    const callback = await g.authorise(started.authorizeUrl, { accounts: ['acc-ukob1-current'] });
    expect(callback.status).toBe(200);
    expect(await callback.json()).toMatchObject({ connectionId: 'ukob-1', bank: 'ukob', status: 'active' });

    // The gateway read the intent back (client credentials) and found it AUTH before calling the connection active.
    const read = (await g.bankRequests()).find((r) => r.method === 'GET' && /\/account-access-consents\/aac-/.test(r.path));
    expect(read?.status).toBe(200);

    const connection = await g.call('/connections/ukob-1');
    expect(await connection.json()).toMatchObject({ status: 'active', scopes: ['accounts'] });

    const interactionId = crypto.randomUUID();
    const accounts = await g.call('/ukob/aisp/accounts', { headers: { 'x-connection-id': 'ukob-1', 'x-fapi-interaction-id': interactionId } });
    expect(accounts.status).toBe(200);
    expect(accounts.headers.get('x-fapi-interaction-id')).toBe(interactionId);
    const body = (await accounts.json()) as ObAccounts;
    // Only the account the PSU shared.
    expect(body.Data.Account.map((a) => a.AccountId)).toEqual(['acc-ukob1-current']);

    const balances = await g.call('/ukob/aisp/accounts/acc-ukob1-current/balances', { headers: { 'x-connection-id': 'ukob-1' } });
    expect(balances.status).toBe(200);
    const other = await g.call('/ukob/aisp/accounts/acc-ukob1-savings/balances', { headers: { 'x-connection-id': 'ukob-1' } });
    expect(other.status).toBe(403);
    expect(((await other.json()) as { code: string }).code).toBe('bank_forbidden');
  });

  it('answers a second delivery of the callback from the first one\'s outcome, without going to the bank', async () => {
    const started = await g.begin('ukob-replay');
    const { callbackUrl, params } = await import('../../sandbox/ukob/headless-psu.js').then((m) => m.authoriseAsUkobPsu(started.authorizeUrl, { ca: g.ca, psuId: 'ukob-psu-1' }));
    const url = new URL(callbackUrl.pathname, callbackUrl.origin);
    url.search = params.toString();
    const first = await fetch(url);
    expect(first.status).toBe(200);
    const codeExchanges = (await g.tokenRequests()).authorization_code;
    const bankCalls = (await g.bankRequests()).length;
    const again = await fetch(url);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(await first.json());
    // The code is not exchanged twice, and the intent is not read back again.
    expect((await g.tokenRequests()).authorization_code).toBe(codeExchanges);
    expect((await g.bankRequests()).length).toBe(bankCalls);
  });

  it('records a PSU refusal as the reason, and the intent stays unauthorised at the bank', async () => {
    const started = await g.begin('ukob-refused');
    const callback = await g.authorise(started.authorizeUrl, { decision: 'reject' });
    expect(callback.status).toBe(400);
    const problem = (await callback.json()) as { code: string; detail: string };
    expect(problem.code).toBe('consent_failed');
    expect(problem.detail).toContain('consent_rejected');
    const connection = (await (await g.call('/connections/ukob-refused')).json()) as { status: string; reason?: { code: string }; consent?: { status: string } };
    expect(connection.status).toBe('failed');
    expect(connection.reason?.code).toBe('consent_rejected');
    // The intent as the bank left it: rejected.
    expect(connection.consent?.status).toBe('RJCT');
    // No PSU token: the accounts are refused before the bank.
    const accounts = await g.call('/ukob/aisp/accounts', { headers: { 'x-connection-id': 'ukob-refused' } });
    expect(accounts.status).toBe(409);
    expect(((await accounts.json()) as { code: string }).code).toBe('connection_pending');
  });

  it('DELETE /connections/{id} deletes the intent at the bank (CANC), which ends the tokens', async () => {
    const started = await g.begin('ukob-revoke');
    expect((await g.authorise(started.authorizeUrl)).status).toBe(200);
    expect((await g.call('/ukob/aisp/accounts', { headers: { 'x-connection-id': 'ukob-revoke' } })).status).toBe(200);
    const deleted = await g.call('/connections/ukob-revoke', { method: 'DELETE' });
    expect(await deleted.json()).toMatchObject({ status: 'revoked', revocation: 'revoked' });
    const deletion = (await g.bankRequests()).filter((r) => r.method === 'DELETE' && /\/account-access-consents\/aac-/.test(r.path)).at(-1)!;
    expect(deletion.status).toBe(204);
    const consentId = deletion.path.split('/').pop()!;
    // The intent's status through the gateway (a client-credentials operation: no connection needed).
    const status = await g.call(`/ukob/aisp/account-access-consents/${consentId}`);
    expect(status.status).toBe(200);
    expect(((await status.json()) as { Data: { Status: string } }).Data.Status).toBe('CANC');
  });

  it('authorises a funds-confirmation consent created through the gateway, confirms funds with it, and ends it', async () => {
    const debtor = { SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: '40413271246830', Name: 'Ms Olivia Smith' };
    const created = await g.call('/ukob/cbpii/funds-confirmation-consents', { method: 'POST', body: { Data: { DebtorAccount: debtor } } });
    expect(created.status).toBe(201);
    const consentId = ((await created.json()) as { Data: { ConsentId: string } }).Data.ConsentId;
    const started = await g.begin('cof-1', {}, { scopes: ['fundsconfirmations'], consentId });
    expect((await g.authorise(started.authorizeUrl)).status).toBe(200);
    expect(await (await g.call('/connections/cof-1')).json()).toMatchObject({ status: 'active', scopes: ['fundsconfirmations'] });

    const confirm = (amount: string) =>
      g.call('/ukob/cbpii/funds-confirmations', { method: 'POST', headers: { 'x-connection-id': 'cof-1' }, body: { Data: { ConsentId: consentId, Reference: 'Purchase01', InstructedAmount: { Amount: amount, Currency: 'GBP' } } } });
    const small = await confirm('10.00');
    expect(small.status).toBe(201);
    expect(((await small.json()) as { Data: { FundsAvailable: boolean } }).Data.FundsAvailable).toBe(true);
    const large = await confirm('100000.00');
    expect(((await large.json()) as { Data: { FundsAvailable: boolean } }).Data.FundsAvailable).toBe(false);

    // A scope that does not match the intent's kind is refused before the bank.
    const mismatched = await g.call('/connections', { method: 'POST', body: { bank: 'ukob', scopes: ['accounts', 'payments'], consentId } });
    expect(mismatched.status).toBe(400);
    expect(((await mismatched.json()) as { code: string }).code).toBe('bad_request');

    expect(await (await g.call('/connections/cof-1', { method: 'DELETE' })).json()).toMatchObject({ revocation: 'revoked' });
    const status = await g.call(`/ukob/cbpii/funds-confirmation-consents/${consentId}`);
    expect(((await status.json()) as { Data: { Status: string } }).Data.Status).toBe('CANC');
  });

  it('a re-consent replaces the intent: the new one serves, the old one is deleted at the bank', async () => {
    const first = await g.begin('ukob-again');
    expect((await g.authorise(first.authorizeUrl)).status).toBe(200);
    const before = (await (await g.call('/connections/ukob-again')).json()) as { consent: { id: string } };
    const second = await g.begin('ukob-again');
    // Until the PSU finishes, the connection keeps serving with its current consent.
    expect((await g.call('/ukob/aisp/accounts', { headers: { 'x-connection-id': 'ukob-again' } })).status).toBe(200);
    expect((await g.authorise(second.authorizeUrl, { accounts: ['acc-ukob1-savings'] })).status).toBe(200);
    const after = (await (await g.call('/connections/ukob-again')).json()) as { status: string; consent: { id: string; status: string } };
    expect(after).toMatchObject({ status: 'active', consent: { status: 'AUTH' } });
    expect(after.consent.id).not.toBe(before.consent.id);
    const accounts = (await (await g.call('/ukob/aisp/accounts', { headers: { 'x-connection-id': 'ukob-again' } })).json()) as { Data: { Account: { AccountId: string }[] } };
    expect(accounts.Data.Account.map((a) => a.AccountId)).toEqual(['acc-ukob1-savings']);
    const old = await g.call(`/ukob/aisp/account-access-consents/${before.consent.id}`);
    expect(((await old.json()) as { Data: { Status: string } }).Data.Status).toBe('CANC');
  });
});

