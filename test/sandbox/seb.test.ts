import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIRECT, sebAuthorizationCode, sebAuthorizationServer, sebHeaders, startTestSandbox, type TestSandbox } from './helpers.js';

describe('SEB-like sandbox bank', () => {
  let sandbox: TestSandbox;

  beforeAll(async () => {
    sandbox = await startTestSandbox();
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

  it('initiates a payment and reports its status', async () => {
    const { tokens } = await sebAuthorizationCode(sandbox);
    const { pis, ais } = sandbox.file.banks.seb.apis;
    const accounts = (await (
      await sandbox.fetch(sandbox.agents.seb, `${ais}/accounts`, { headers: sebHeaders(tokens.access_token) })
    ).json()) as { accounts: Array<{ iban: string }> };
    const created = await sandbox.fetch(sandbox.agents.seb, `${pis}/payments/sepa-credit-transfers`, {
      method: 'POST',
      headers: { ...sebHeaders(tokens.access_token), 'content-type': 'application/json' },
      body: JSON.stringify({
        instructedAmount: { currency: 'SEK', amount: '100.00' },
        debtorAccount: { iban: accounts.accounts[0]!.iban },
        creditorAccount: { iban: 'SE4550000000058398257466' },
        creditorName: 'Bertil Berg AB',
      }),
    });
    expect(created.status).toBe(201);
    const { paymentId, transactionStatus } = (await created.json()) as { paymentId: string; transactionStatus: string };
    expect(transactionStatus).toBe('RCVD');
    expect(created.headers.get('location')).toContain(paymentId);
    const status = await sandbox.fetch(sandbox.agents.seb, `${pis}/payments/sepa-credit-transfers/${paymentId}/status`, {
      headers: sebHeaders(tokens.access_token),
    });
    expect(await status.json()).toEqual({ transactionStatus: 'ACSC' });

    const unknownProduct = await sandbox.fetch(sandbox.agents.seb, `${pis}/payments/bitcoin/${paymentId}`, { headers: sebHeaders(tokens.access_token) });
    expect(unknownProduct.status).toBe(404);
  });
});
