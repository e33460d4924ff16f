import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documents, manifests } from '../../generated/index.js';
import { authoriseAtBank, signInBankIdApp } from '../../sandbox/headless-psu.js';
import { createSpecChecker } from './bg-helpers.js';
import { REDIRECT, sebAuthorizationCode, sebAuthorizationServer, sebHeaders, startTestSandbox, type TestSandbox } from './helpers.js';

describe('SEB-like sandbox bank', () => {
  let sandbox: TestSandbox;

  beforeAll(async () => {
    // Mobile BankID signs only through the control plane here (the automatic signature is tested separately).
    sandbox = await startTestSandbox({ seb: { mobileBankIdMs: 0 } });
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  it('drives the headless consent chain: authorize → 303 interaction → POST psu_id → 303 resume → 303 callback', async () => {
    const { steps, callbackUrl, tokens } = await sebAuthorizationCode(sandbox);
    const { issuer } = sandbox.file.banks.seb.authorizationServer;
    expect(steps.map((s) => [s.method, s.status])).toEqual([
      ['GET', 303],
      ['POST', 303],
      ['GET', 303],
    ]);
    expect(new URL(steps[0]!.url).pathname).toBe('/mga/sps/oauth/oauth20/authorize');
    expect(new URL(steps[1]!.url).pathname).toMatch(/^\/interaction\/[\w-]+$/);
    expect(callbackUrl.origin + callbackUrl.pathname).toBe(REDIRECT.seb);
    expect(callbackUrl.searchParams.get('code')).toBeTruthy();
    expect(callbackUrl.searchParams.get('state')).toBeTruthy();
    expect(callbackUrl.searchParams.get('iss')).toBe(issuer); // RFC 9207

    expect(tokens.token_type).toBe('bearer');
    expect(tokens.expires_in).toBe(3599);
    expect(tokens.scope).toBe('psd2_accounts psd2_payments');
    expect(tokens.refresh_token).toBeTruthy();
    expect(tokens.id_token).toBeUndefined();
  });

  it('renders the consent page and names the valid PSU ids for an unknown one', async () => {
    const as = sebAuthorizationServer(sandbox.file);
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({
      client_id: sandbox.file.banks.seb.client.clientId,
      response_type: 'code',
      redirect_uri: REDIRECT.seb,
      scope: 'psd2_accounts',
      code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()),
      code_challenge_method: 'S256',
    }).toString();
    const first = await sandbox.fetch(sandbox.agents.none, url, { redirect: 'manual' });
    expect(first.status).toBe(303);
    const cookie = first.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const interaction = new URL(first.headers.get('location')!, url).href;

    const page = await sandbox.fetch(sandbox.agents.none, interaction, { headers: { cookie } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('name="psu_id"');
    expect(html).toContain('9311219639');

    const refused = await sandbox.fetch(sandbox.agents.none, interaction, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'psu_id=123',
      redirect: 'manual',
    });
    expect(refused.status).toBe(400);
    const text = await refused.text();
    expect(text).toContain('9311219639');
    expect(text).toContain('9311219589');
  });

  it('accepts loopback redirect URIs on any port and refuses others without redirecting', async () => {
    const authorize = async (redirectUri: string) => {
      const url = new URL(sandbox.file.banks.seb.authorizationServer.authorizationEndpoint);
      url.search = new URLSearchParams({
        client_id: sandbox.file.banks.seb.client.clientId,
        response_type: 'code',
        redirect_uri: redirectUri,
        scope: 'psd2_accounts',
        code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()),
        code_challenge_method: 'S256',
      }).toString();
      return sandbox.fetch(sandbox.agents.none, url, { redirect: 'manual' });
    };
    for (const uri of ['http://127.0.0.1:1/callback/seb', 'http://localhost:65000/callback/seb']) {
      const response = await authorize(uri);
      expect(response.status).toBe(303);
      expect(new URL(response.headers.get('location')!, 'https://x').pathname).toMatch(/^\/interaction\//);
    }
    for (const uri of ['http://evil.example/callback/seb', 'http://127.0.0.1:3000/callback/sg']) {
      const response = await authorize(uri);
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect(((await response.json()) as { error: string }).error).toBe('invalid_redirect_uri');
    }
  });

  it('requires PKCE', async () => {
    const url = new URL(sandbox.file.banks.seb.authorizationServer.authorizationEndpoint);
    url.search = new URLSearchParams({
      client_id: sandbox.file.banks.seb.client.clientId,
      response_type: 'code',
      redirect_uri: REDIRECT.seb,
      scope: 'psd2_accounts',
    }).toString();
    const response = await sandbox.fetch(sandbox.agents.none, url, { redirect: 'manual' });
    const location = new URL(response.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('invalid_request');
  });

  it('serves the PSU accounts, balances and transactions over mTLS', async () => {
    const { tokens } = await sebAuthorizationCode(sandbox);
    const ais = sandbox.file.banks.seb.apis.ais!;
    const list = await sandbox.fetch(sandbox.agents.seb, `${ais}/accounts?withBalance=true`, { headers: sebHeaders(tokens.access_token) });
    expect(list.status).toBe(200);
    const { accounts } = (await list.json()) as { accounts: Array<{ resourceId: string; iban: string; balances: unknown[] }> };
    expect(accounts.length).toBeGreaterThanOrEqual(2);
    expect(accounts[0]!.iban).toMatch(/^SE\d{22}$/);
    expect(accounts[0]!.balances).toHaveLength(2);

    const id = accounts[0]!.resourceId;
    const balances = await sandbox.fetch(sandbox.agents.seb, `${ais}/accounts/${id}/balances`, { headers: sebHeaders(tokens.access_token) });
    expect(balances.status).toBe(200);
    const transactions = await sandbox.fetch(sandbox.agents.seb, `${ais}/accounts/${id}/transactions?bookingStatus=both`, {
      headers: sebHeaders(tokens.access_token),
    });
    expect(transactions.status).toBe(200);
    const body = (await transactions.json()) as { transactions: { booked: unknown[]; pending: unknown[] } };
    expect(body.transactions.booked.length).toBeGreaterThan(0);
    expect(body.transactions.pending.length).toBeGreaterThan(0);
  });

  it('answers Berlin Group errors: 404 unknown route, 400 missing header or non-UUID X-Request-ID, 401 bad token, 403 scope', async () => {
    const { tokens } = await sebAuthorizationCode(sandbox, 'psd2_accounts');
    const { ais, pis } = sandbox.file.banks.seb.apis;
    const call = async (url: string, headers: Record<string, string>, init: RequestInit = {}) => {
      const response = await sandbox.fetch(sandbox.agents.seb, url, { ...init, headers });
      return { status: response.status, body: (await response.json()) as { tppMessages: Array<{ category: string; code: string; text: string }> } };
    };
    const good = sebHeaders(tokens.access_token);

    const unknown = await call(`${ais}/cards`, good);
    expect(unknown.status).toBe(404);
    expect(unknown.body.tppMessages[0]!.code).toBe('RESOURCE_UNKNOWN');

    const { 'psu-ip-address': _omitted, ...withoutIp } = good;
    const missing = await call(`${ais}/accounts`, withoutIp);
    expect(missing.status).toBe(400);
    expect(missing.body.tppMessages[0]).toMatchObject({ category: 'ERROR', code: 'FORMAT_ERROR' });
    expect(missing.body.tppMessages[0]!.text).toContain('PSU-IP-Address');

    const badId = await call(`${ais}/accounts`, { ...good, 'x-request-id': 'not-a-uuid' });
    expect(badId.status).toBe(400);
    expect(badId.body.tppMessages[0]!.text).toContain('UUID');

    const badToken = await call(`${ais}/accounts`, { ...good, authorization: 'Bearer nope' });
    expect(badToken.status).toBe(401);
    expect(badToken.body.tppMessages[0]).toMatchObject({ category: 'ERROR', code: 'TOKEN_INVALID' });

    const noScope = await call(`${pis}/payments/sepa-credit-transfers/123/status`, good);
    expect(noScope.status).toBe(403);
    expect(noScope.body.tppMessages[0]!.code).toBe('CONSENT_INVALID');
  });

  it('keeps the refresh token (no rotation): the same one refreshes twice', async () => {
    const { tokens } = await sebAuthorizationCode(sandbox);
    const as = sebAuthorizationServer(sandbox.file);
    const client = { client_id: sandbox.file.banks.seb.client.clientId };
    const auth = oauth.ClientSecretPost(sandbox.file.banks.seb.client.clientSecret!);
    const options = { [oauth.customFetch]: sandbox.customFetch(sandbox.agents.none) };
    for (let i = 0; i < 2; i++) {
      const response = await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token!, options);
      const refreshed = await oauth.processRefreshTokenResponse(as, client, response);
      expect(refreshed.access_token).not.toBe(tokens.access_token);
      expect(refreshed.refresh_token).toBe(tokens.refresh_token);
      expect(refreshed.expires_in).toBe(3599);
    }
  });

  it("logs in decoupled with Mobile BankID (SEB's /auth/v3 flow, JSON bodies): pending → the app signs → tokens that work and refresh", async () => {
    const { issuer } = sandbox.file.banks.seb.authorizationServer;
    const { clientId, clientSecret } = sandbox.file.banks.seb.client;
    const post = (path: string, body: unknown) =>
      sandbox.fetch(sandbox.agents.none, `${issuer}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const started = await post('/auth/v3/authorizations', { client_id: clientId, lang: 'en', scope: 'psd2_accounts', start_mode: 'ast' });
    expect(started.status).toBe(201);
    const { auth_req_id: authReqId } = (await started.json()) as { auth_req_id: string };
    const poll = async () => (await (await sandbox.fetch(sandbox.agents.none, `${issuer}/auth/v3/authorizations/${authReqId}`)).json()) as Record<string, any>;
    const pending = await poll();
    expect(pending).toMatchObject({ status: 'PENDING', hint_code: 'outstandingTransaction', poll_delay: expect.any(Number), autostart_token: expect.any(String) });
    const tokenRequest = { client_id: clientId, client_secret: clientSecret, auth_req_id: authReqId, redirect_uri: REDIRECT.seb };
    const early = await post('/auth/v3/tokens', tokenRequest);
    expect(early.status).toBe(409);
    expect(((await early.json()) as { error: string }).error).toBe('authorization_pending');

    await signInBankIdApp(issuer, pending.autostart_token, { ca: sandbox.ca, psuId: '9311219639' });
    expect((await poll()).status).toBe('COMPLETE');
    const wrongSecret = await post('/auth/v3/tokens', { ...tokenRequest, client_secret: 'nope' });
    expect(wrongSecret.status).toBe(401);
    const issued = await post('/auth/v3/tokens', tokenRequest);
    expect(issued.status).toBe(200);
    const tokens = (await issued.json()) as { access_token: string; refresh_token: string; scope: string; expires_in: number };
    expect(tokens).toMatchObject({ scope: 'psd2_accounts', expires_in: 3599 });
    const accounts = await sandbox.fetch(sandbox.agents.seb, `${sandbox.file.banks.seb.apis.ais}/accounts`, { headers: sebHeaders(tokens.access_token) });
    expect(accounts.status).toBe(200);
    expect(((await accounts.json()) as { accounts: unknown[] }).accounts).toHaveLength(3);
    expect((await post('/auth/v3/tokens', tokenRequest)).status).toBe(400);

    const as = sebAuthorizationServer(sandbox.file);
    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      { client_id: clientId },
      await oauth.refreshTokenGrantRequest(as, { client_id: clientId }, oauth.ClientSecretPost(clientSecret!), tokens.refresh_token, {
        [oauth.customFetch]: sandbox.customFetch(sandbox.agents.none),
      }),
    );
    expect(refreshed.refresh_token).toBe(tokens.refresh_token);
  });

  async function createPayment(accessToken: string, amount = '100.00', redirectUri?: string): Promise<{ paymentId: string; body: Record<string, any>; location: string | null }> {
    const { pis, ais } = sandbox.file.banks.seb.apis;
    const accounts = (await (await sandbox.fetch(sandbox.agents.seb, `${ais}/accounts`, { headers: sebHeaders(accessToken) })).json()) as {
      accounts: Array<{ iban: string }>;
    };
    const created = await sandbox.fetch(sandbox.agents.seb, `${pis}/payments/sepa-credit-transfers`, {
      method: 'POST',
      headers: { ...sebHeaders(accessToken), 'content-type': 'application/json', ...(redirectUri ? { 'tpp-redirect-uri': redirectUri } : {}) },
      body: JSON.stringify({
        instructedAmount: { currency: 'SEK', amount },
        debtorAccount: { iban: accounts.accounts[0]!.iban },
        creditorAccount: { iban: 'SE4550000000058398257466' },
        creditorName: 'Bertil Berg AB',
      }),
    });
    expect(created.status).toBe(201);
    const body = (await created.json()) as Record<string, any>;
    checkPis('POST', new URL(`${pis}/payments/sepa-credit-transfers`).pathname, 201, body);
    return { paymentId: body.paymentId as string, body, location: created.headers.get('location') };
  }

  // Every payment answer checked against the SEB spec, as the gateway checks it (responses: 'enforce').
  const checkPis = createSpecChecker(documents.seb.pis as never, manifests.seb.pis, '/pis/v7/identified2');

  async function get(url: string, accessToken: string): Promise<Record<string, any>> {
    const response = await sandbox.fetch(sandbox.agents.seb, url, { headers: sebHeaders(accessToken) });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, any>;
    checkPis('GET', new URL(url).pathname, 200, body);
    return body;
  }

  async function startSigning(url: string, accessToken: string, authenticationMethodId: string): Promise<Response> {
    return sandbox.fetch(sandbox.agents.seb, url, {
      method: 'POST',
      headers: { ...sebHeaders(accessToken), 'content-type': 'application/json' },
      body: JSON.stringify({ authenticationMethodId }),
    });
  }

  it('initiates a payment RCVD; the PSU signs it with Mobile BankID (decoupled) through …/authorisations; then ACSC', async () => {
    const { tokens } = await sebAuthorizationCode(sandbox);
    const { pis } = sandbox.file.banks.seb.apis;
    const { paymentId, body, location } = await createPayment(tokens.access_token);
    expect(body.transactionStatus).toBe('RCVD');
    expect(location).toContain(paymentId);
    expect(body.scaMethods.map((m: { authenticationMethodId: string }) => m.authenticationMethodId)).toEqual(['mobiltbankid']);
    const statusUrl = `${pis}/payments/sepa-credit-transfers/${paymentId}/status`;
    const status = await get(statusUrl, tokens.access_token);
    expect(status.transactionStatus).toBe('RCVD');
    const start = new URL(status._links.startAuthorisationWithAuthenticationMethodSelection.href, pis).href;

    const unknownMethod = await startSigning(start, tokens.access_token, 'carrier-pigeon');
    expect(unknownMethod.status).toBe(400);
    const started = await startSigning(start, tokens.access_token, 'mobiltbankid');
    expect(started.status).toBe(200);
    const signing = (await started.json()) as Record<string, any>;
    checkPis('POST', new URL(start).pathname, 200, signing);
    expect(signing).toMatchObject({ scaStatus: 'started', psuMessage: 'Öppna Mobilt BankID app', chosenScaMethod: { authenticationMethodId: 'mobiltbankid' } });
    expect((await startSigning(start, tokens.access_token, 'mobiltbankid')).status).toBe(409);
    const poll = new URL(signing._links.self.href, pis).href;
    expect((await get(poll, tokens.access_token)).scaStatus).toBe('started');

    const approved = await fetch(`${sandbox.file.banks.seb.controlUrl}/authorisations/${signing.authorisationId}/approve`, { method: 'POST' });
    expect(approved.status).toBe(200);
    expect((await get(poll, tokens.access_token)).scaStatus).toBe('finalized');
    expect(await get(statusUrl, tokens.access_token)).toEqual({ transactionStatus: 'ACSC' });
    expect((await get(`${pis}/payments/sepa-credit-transfers/${paymentId}/authorisations`, tokens.access_token)).authorisationIds).toEqual([signing.authorisationId]);

    const unknownProduct = await sandbox.fetch(sandbox.agents.seb, `${pis}/payments/bitcoin/${paymentId}`, { headers: sebHeaders(tokens.access_token) });
    expect(unknownProduct.status).toBe(404);
  });

  it('signs with Digipass at the scaRedirect page (corporate PSU) and sends the PSU back to TPP-Redirect-URI; a rejected signing leaves the payment RCVD', async () => {
    const { tokens } = await sebAuthorizationCode(sandbox, 'psd2_accounts psd2_payments', '9311219589');
    const { pis } = sandbox.file.banks.seb.apis;
    const back = 'http://127.0.0.1:4567/sca/seb/done';
    const { paymentId, body } = await createPayment(tokens.access_token, '1000.00', back);
    expect(body.scaMethods.map((m: { authenticationMethodId: string }) => m.authenticationMethodId)).toEqual(['mobiltbankid', 'digipass']);
    const start = new URL(body._links.startAuthorisationWithAuthenticationMethodSelection.href, pis).href;

    const rejected = (await (await startSigning(start, tokens.access_token, 'mobiltbankid')).json()) as Record<string, any>;
    await fetch(`${sandbox.file.banks.seb.controlUrl}/authorisations/${rejected.authorisationId}/reject`, { method: 'POST' });
    expect((await get(new URL(rejected._links.self.href, pis).href, tokens.access_token)).scaStatus).toBe('failed');
    expect((await get(`${pis}/payments/sepa-credit-transfers/${paymentId}/status`, tokens.access_token)).transactionStatus).toBe('RCVD');

    const digipass = (await (await startSigning(start, tokens.access_token, 'digipass')).json()) as Record<string, any>;
    expect(digipass.scaStatus).toBe('started');
    const { returnUrl } = await authoriseAtBank(digipass._links.scaRedirect.href, { ca: sandbox.ca, psuId: '9311219589' });
    expect(returnUrl.href).toBe(back);
    expect((await get(new URL(digipass._links.self.href, pis).href, tokens.access_token)).scaStatus).toBe('finalized');
    expect((await get(`${pis}/payments/sepa-credit-transfers/${paymentId}/status`, tokens.access_token)).transactionStatus).toBe('ACSC');
  });
});

describe('SEB-like sandbox bank: the automatic Mobile BankID signature', () => {
  let sandbox: TestSandbox;

  beforeAll(async () => {
    sandbox = await startTestSandbox({ seb: { mobileBankIdMs: 200 } });
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  it('signs by itself after its delay, as SEB\'s sandbox mocks every signing', async () => {
    const { tokens } = await sebAuthorizationCode(sandbox);
    const { pis, ais } = sandbox.file.banks.seb.apis;
    const headers = sebHeaders(tokens.access_token);
    const accounts = (await (await sandbox.fetch(sandbox.agents.seb, `${ais}/accounts`, { headers })).json()) as { accounts: Array<{ iban: string }> };
    const created = (await (
      await sandbox.fetch(sandbox.agents.seb, `${pis}/payments/sepa-credit-transfers`, {
        method: 'POST',
        headers: { ...sebHeaders(tokens.access_token), 'content-type': 'application/json' },
        body: JSON.stringify({ instructedAmount: { currency: 'SEK', amount: '10.00' }, debtorAccount: { iban: accounts.accounts[0]!.iban }, creditorAccount: { iban: 'SE4550000000058398257466' }, creditorName: 'X' }),
      })
    ).json()) as { paymentId: string };
    const signing = (await (
      await sandbox.fetch(sandbox.agents.seb, `${pis}/payments/sepa-credit-transfers/${created.paymentId}/authorisations`, {
        method: 'POST',
        headers: { ...sebHeaders(tokens.access_token), 'content-type': 'application/json' },
        body: JSON.stringify({ authenticationMethodId: 'mobiltbankid' }),
      })
    ).json()) as { _links: { self: { href: string } } };
    // Poll as SEB asks (about once a second) until the mocked signature lands; bounded, not a sleep-and-hope.
    let scaStatus = 'started';
    for (let poll = 0; poll < 40 && scaStatus === 'started'; poll++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      scaStatus = ((await (await sandbox.fetch(sandbox.agents.seb, new URL(signing._links.self.href, pis), { headers: sebHeaders(tokens.access_token) })).json()) as { scaStatus: string }).scaStatus;
    }
    expect(scaStatus).toBe('finalized');
  });
});
