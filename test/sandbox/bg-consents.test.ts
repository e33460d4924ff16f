import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatsSnapshot } from '../../sandbox/index.js';
import { bgAuthorizationServer, bgOAuth, consentBody, startBgSandbox, TPP_REDIRECT, type BgSandbox } from './bg-helpers.js';

/** A valid consent through the embedded approach (no browser needed): its id. */
async function validConsent(sandbox: BgSandbox, body: Record<string, unknown> = consentBody(), psuId = 'erika.mustermann'): Promise<string> {
  const created = await sandbox.call('POST', '/v1/consents', { headers: { 'psu-id': psuId, 'tpp-redirect-preferred': 'false' }, body });
  expect(created.status).toBe(201);
  let step = await sandbox.call('PUT', created.body._links.updatePsuAuthentication.href, { body: { psuData: { password: '12345' } } });
  if (step.body.scaStatus === 'psuAuthenticated') step = await sandbox.call('PUT', step.body._links.selectAuthenticationMethod.href, { body: { authenticationMethodId: 'sms-otp' } });
  const done = await sandbox.call('PUT', step.body._links.authoriseTransaction.href, { body: { scaAuthenticationData: '123456' } });
  expect(done.body.scaStatus).toBe('finalised');
  return created.body.consentId as string;
}

async function status(sandbox: BgSandbox, consentId: string): Promise<string> {
  return (await sandbox.call('GET', `/v1/consents/${consentId}/status`)).body.consentStatus as string;
}

describe('bg sandbox bank: consent rules', () => {
  let sandbox: BgSandbox;

  beforeAll(async () => {
    sandbox = await startBgSandbox();
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  it('counts unattended reads per endpoint and account: 4 pass, the 5th is 429 ACCESS_EXCEEDED; with PSU-IP-Address it passes; 24 h later again', async () => {
    const consentId = await validConsent(sandbox, consentBody({ frequencyPerDay: 4 }));
    const headers = { 'consent-id': consentId };
    const accounts = await sandbox.call('GET', '/v1/accounts', { headers });
    const account = accounts.body.accounts[0].resourceId as string;
    const transactions = `/v1/accounts/${account}/transactions?bookingStatus=booked&dateFrom=2000-01-01`;
    const unattended = () => sandbox.call('GET', transactions, { headers, psuPresent: false });
    for (let read = 1; read <= 4; read++) expect((await unattended()).status).toBe(200);
    const fifth = await unattended();
    expect(fifth.status).toBe(429);
    expect(fifth.body.tppMessages[0].code).toBe('ACCESS_EXCEEDED');
    expect(Number(fifth.headers.get('retry-after'))).toBeGreaterThan(0);

    // The PSU asking (PSU-IP-Address) is not counted; another endpoint of the same account has its own count.
    expect((await sandbox.call('GET', transactions, { headers })).status).toBe(200);
    expect((await sandbox.call('GET', `/v1/accounts/${account}/balances`, { headers, psuPresent: false })).status).toBe(200);
    const usage = (await sandbox.control('GET', `/consents/${consentId}`)).body.unattendedReads;
    expect(usage[`getTransactionList:${account}`]).toBe(4);

    await sandbox.control('POST', '/clock', { advanceSeconds: 24 * 3600 + 1 });
    expect((await unattended()).status).toBe(200);
  });

  it('grants at most frequencyPerDay 4 and 180 days; GET shows what the bank granted', async () => {
    const created = await sandbox.call('POST', '/v1/consents', {
      headers: { 'tpp-redirect-uri': TPP_REDIRECT },
      body: consentBody({ frequencyPerDay: 24, validUntil: '9999-12-31' }),
    });
    const consent = await sandbox.call('GET', `/v1/consents/${created.body.consentId}`);
    expect(consent.status).toBe(200);
    expect(consent.body.frequencyPerDay).toBe(4);
    expect(consent.body.validUntil < '9999-12-31').toBe(true);
    expect(Date.parse(consent.body.validUntil) - Date.now()).toBeGreaterThan(179 * 86_400_000);
    expect(consent.body).toMatchObject({ consentStatus: 'received', recurringIndicator: true, access: { allPsd2: 'allAccounts' } });
  });

  it('refuses bad consent requests with their FORMAT_ERROR / PERIOD_INVALID', async () => {
    const post = (body: Record<string, unknown>, headers: Record<string, string> = { 'tpp-redirect-uri': TPP_REDIRECT }) =>
      sandbox.call('POST', '/v1/consents', { headers, body });
    const past = await post(consentBody({ validUntil: '2001-01-01' }));
    expect(past.status).toBe(400);
    expect(past.body.tppMessages[0].code).toBe('PERIOD_INVALID');
    const oneOff = await post(consentBody({ recurringIndicator: false, frequencyPerDay: 4 }));
    expect(oneOff.body.tppMessages[0]).toMatchObject({ code: 'FORMAT_ERROR', path: 'frequencyPerDay' });
    const schema = await post({ access: {}, recurringIndicator: 'yes' });
    expect(schema.status).toBe(400);
    expect(schema.body.tppMessages[0].code).toBe('FORMAT_ERROR');
    const noRedirectUri = await post(consentBody(), {});
    expect(noRedirectUri.body.tppMessages[0]).toMatchObject({ code: 'FORMAT_ERROR', path: 'TPP-Redirect-URI' });
    const foreignRedirect = await post(consentBody(), { 'tpp-redirect-uri': 'https://evil.example/cb' });
    expect(foreignRedirect.body.tppMessages[0].path).toBe('TPP-Redirect-URI');
    const unknownPsu = await post(consentBody(), { 'psu-id': 'nobody', 'tpp-redirect-uri': TPP_REDIRECT });
    expect(unknownPsu.status).toBe(401);
    expect(unknownPsu.body.tppMessages[0].code).toBe('PSU_CREDENTIALS_INVALID');
    const noRequestId = await sandbox.call('POST', '/v1/consents', { headers: { 'tpp-redirect-uri': TPP_REDIRECT, 'x-request-id': 'abc' }, body: consentBody() });
    expect(noRequestId.body.tppMessages[0].code).toBe('FORMAT_ERROR');
  });

  it('needs Consent-ID on account reads, and only the TPP that created a consent may use it', async () => {
    const consentId = await validConsent(sandbox);
    const missing = await sandbox.call('GET', '/v1/accounts');
    expect(missing.status).toBe(400);
    expect(missing.body.tppMessages[0].code).toBe('FORMAT_ERROR');
    expect(missing.body.tppMessages[0].text).toContain('Consent-ID');
    const unknown = await sandbox.call('GET', '/v1/accounts', { headers: { 'consent-id': 'no-such-consent' } });
    expect(unknown.status).toBe(403);
    expect(unknown.body.tppMessages[0].code).toBe('CONSENT_UNKNOWN');
    const otherTpp = await sandbox.call('GET', '/v1/accounts', { headers: { 'consent-id': consentId }, agent: sandbox.bgAgents.otherTpp });
    expect(otherTpp.body.tppMessages[0].code).toBe('CONSENT_UNKNOWN');
    expect((await sandbox.call('GET', `/v1/consents/${consentId}`, { agent: sandbox.bgAgents.otherTpp })).status).toBe(403);
  });

  it('limits a consent to its accounts and services: explicit IBANs, a bank-offered consent the PSU picks accounts for', async () => {
    const psus = (await sandbox.control('GET', '')).body.psus as Array<{ psuId: string; ibans: string[] }>;
    const [giro, tagesgeld] = psus.find((psu) => psu.psuId === 'max.mustermann')!.ibans as [string, string];
    const created = await sandbox.call('POST', '/v1/consents', {
      headers: { 'psu-id': 'max.mustermann', 'tpp-redirect-preferred': 'false' },
      body: consentBody({ access: { accounts: [{ iban: giro }, { iban: tagesgeld }], transactions: [{ iban: giro }] } }),
    });
    expect(created.status).toBe(201);
    const consentId = await (async () => {
      const authorisation = created.body._links.updatePsuAuthentication.href as string;
      await sandbox.call('PUT', authorisation, { body: { psuData: { password: '12345' } } });
      await sandbox.call('PUT', authorisation, { body: { authenticationMethodId: 'chip-tan' } });
      await sandbox.call('PUT', authorisation, { body: { scaAuthenticationData: '123456' } });
      return created.body.consentId as string;
    })();
    const headers = { 'consent-id': consentId };
    const list = await sandbox.call('GET', '/v1/accounts', { headers });
    expect(list.body.accounts.map((a: { iban: string }) => a.iban)).toEqual([giro, tagesgeld]);
    const [giroId, tagesgeldId] = list.body.accounts.map((a: { resourceId: string }) => a.resourceId);
    expect(list.body.accounts[0]._links.transactions).toBeDefined();
    expect(list.body.accounts[1]._links.transactions).toBeUndefined();
    expect((await sandbox.call('GET', `/v1/accounts/${giroId}/transactions?bookingStatus=booked&dateFrom=2000-01-01`, { headers })).status).toBe(200);
    const noTransactions = await sandbox.call('GET', `/v1/accounts/${tagesgeldId}/transactions?bookingStatus=booked&dateFrom=2000-01-01`, { headers });
    expect(noTransactions.status).toBe(401);
    expect(noTransactions.body.tppMessages[0].code).toBe('CONSENT_INVALID');
    expect((await sandbox.call('GET', `/v1/accounts/${giroId}/balances`, { headers })).body.tppMessages[0].code).toBe('CONSENT_INVALID');
    const noDateFrom = await sandbox.call('GET', `/v1/accounts/${giroId}/transactions?bookingStatus=booked`, { headers });
    expect(noDateFrom.body.tppMessages[0]).toMatchObject({ code: 'FORMAT_ERROR', path: 'dateFrom' });

    // Bank-offered: no account named; the PSU picks the Tagesgeld at the bank.
    const offered = await sandbox.call('POST', '/v1/consents', {
      headers: { 'tpp-redirect-uri': TPP_REDIRECT },
      body: consentBody({ access: { accounts: [], balances: [], transactions: [] } }),
    });
    const { returnUrl } = await sandbox.psu(offered.body._links.scaRedirect.href, { psuId: 'max.mustermann', accounts: [tagesgeld] });
    await sandbox.call('PUT', offered.body._links.confirmation.href, { body: { confirmationCode: returnUrl.searchParams.get('code') } });
    const granted = await sandbox.call('GET', `/v1/consents/${offered.body.consentId}`);
    expect(granted.body.access).toEqual({ accounts: [{ iban: tagesgeld }], balances: [{ iban: tagesgeld }], transactions: [{ iban: tagesgeld }] });
    const offeredList = await sandbox.call('GET', '/v1/accounts', { headers: { 'consent-id': offered.body.consentId } });
    expect(offeredList.body.accounts.map((a: { iban: string }) => a.iban)).toEqual([tagesgeld]);

    // A bank-offered consent cannot be authorised embedded: the PSU has to pick accounts at the bank.
    const embeddedOffered = await sandbox.call('POST', '/v1/consents', {
      headers: { 'psu-id': 'max.mustermann', 'tpp-redirect-preferred': 'false' },
      body: consentBody({ access: { accounts: [], balances: [], transactions: [] } }),
    });
    expect(embeddedOffered.body.tppMessages[0].code).toBe('PARAMETER_NOT_SUPPORTED');
  });

  it('expires a consent at its validUntil (bank time) and on the control plane: 401 CONSENT_EXPIRED', async () => {
    // Tomorrow in bank time (earlier tests moved the bank's clock).
    const offset = (await sandbox.control('GET', '')).body.clockOffsetSeconds as number;
    const tomorrow = new Date(Date.now() + offset * 1000 + 86_400_000).toISOString().slice(0, 10);
    const short = await validConsent(sandbox, consentBody({ validUntil: tomorrow }));
    const other = await validConsent(sandbox, consentBody({ recurringIndicator: false, frequencyPerDay: 1 }));
    expect((await sandbox.control('POST', `/consents/${other}/expire`)).body.consentStatus).toBe('expired');
    const expiredNow = await sandbox.call('GET', '/v1/accounts', { headers: { 'consent-id': other } });
    expect(expiredNow.status).toBe(401);
    expect(expiredNow.body.tppMessages[0].code).toBe('CONSENT_EXPIRED');

    expect(await status(sandbox, short)).toBe('valid');
    await sandbox.control('POST', '/clock', { advanceSeconds: 2 * 86_400 });
    expect(await status(sandbox, short)).toBe('expired');
    expect((await sandbox.call('GET', '/v1/accounts', { headers: { 'consent-id': short } })).body.tppMessages[0].code).toBe('CONSENT_EXPIRED');
  });

  it('a PSU revocation makes the consent revokedByPsu and kills its OAuth tokens', async () => {
    const created = await sandbox.call('POST', '/v1/consents', { headers: { 'psu-id': 'erika.mustermann' }, body: consentBody() });
    const consentId = created.body.consentId as string;
    const tokens = await bgOAuth(sandbox, `AIS:${consentId}`, { psuId: 'erika.mustermann' });
    expect((await sandbox.call('GET', '/v1/accounts', { headers: { 'consent-id': consentId }, token: tokens.access_token })).status).toBe(200);

    const revoked = await sandbox.control('POST', `/consents/${consentId}/revoke`);
    expect(revoked.body.consentStatus).toBe('revokedByPsu');
    const read = await sandbox.call('GET', '/v1/accounts', { headers: { 'consent-id': consentId }, token: tokens.access_token });
    expect(read.status).toBe(401);
    expect(read.body.tppMessages[0].code).toBe('CONSENT_INVALID');
    // The status stays readable (with or without the dead token), and says why.
    expect((await sandbox.call('GET', `/v1/consents/${consentId}/status`, { token: tokens.access_token })).body.consentStatus).toBe('revokedByPsu');
    const as = await bgAuthorizationServer(sandbox, sandbox.bg.authorizationServer.metadataUrl);
    const client = { client_id: sandbox.bg.client.clientId, use_mtls_endpoint_aliases: true };
    const refresh = await oauth.refreshTokenGrantRequest(as, client, oauth.TlsClientAuth(), tokens.refresh_token!, {
      [oauth.customFetch]: sandbox.customFetch(sandbox.bgAgents.tpp),
    });
    await expect(oauth.processRefreshTokenResponse(as, client, refresh)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await sandbox.control('POST', `/consents/${consentId}/revoke`)).status).toBe(409);
  });

  it("a new recurring consent, once authorised, expires the PSU's older recurring consent at this TPP (not a one-off one)", async () => {
    const older = await validConsent(sandbox, consentBody(), 'max.mustermann');
    const oneOff = await validConsent(sandbox, consentBody({ recurringIndicator: false, frequencyPerDay: 1 }), 'max.mustermann');
    const otherPsu = await validConsent(sandbox, consentBody(), 'erika.mustermann');
    const created = await sandbox.call('POST', '/v1/consents', { headers: { 'psu-id': 'max.mustermann', 'tpp-redirect-preferred': 'false' }, body: consentBody() });
    // Not yet authorised: the older one is untouched.
    expect(await status(sandbox, older)).toBe('valid');
    const newer = await validConsent(sandbox, consentBody(), 'max.mustermann');
    expect(await status(sandbox, older)).toBe('expired');
    expect((await sandbox.control('GET', `/consents/${older}`)).body.statusReason).toContain(newer);
    expect(await status(sandbox, oneOff)).toBe('valid');
    expect(await status(sandbox, otherPsu)).toBe('valid');
    expect(await status(sandbox, created.body.consentId)).toBe('received');
  });

  it('counts bg calls in /__sandbox/stats and records them in /__sandbox/requests?bank=bg; faults apply', async () => {
    await fetch(sandbox.file.resetUrl, { method: 'POST' });
    const consentId = await validConsent(sandbox);
    await sandbox.call('GET', '/v1/accounts', { headers: { 'consent-id': consentId } });
    await sandbox.call('GET', '/v1/accounts', { headers: { 'consent-id': 'nope' } });
    const stats = (await (await fetch(sandbox.file.statsUrl)).json()) as StatsSnapshot;
    // POST consent, PUT password, PUT TAN, two reads.
    expect(stats.banks.bg.resourceCalls).toEqual({ '200': 3, '201': 1, '403': 1 });
    const recorded = (await (await fetch(`${sandbox.file.controlUrl}/requests?bank=bg`)).json()) as Array<{ path: string; headers: Record<string, string>; status: number }>;
    expect(recorded.at(-2)).toMatchObject({ path: '/psd2/v1/accounts', status: 200 });
    expect(recorded.at(-2)!.headers['consent-id']).toBe(consentId);

    const armed = await fetch(`${sandbox.file.controlUrl}/faults`, {
      method: 'POST',
      body: JSON.stringify([{ bank: 'bg', target: 'resource', action: 'status', status: 503, pathPrefix: '/psd2/v1/accounts' }]),
    });
    expect(armed.status).toBe(200);
    const faulted = await sandbox.call('GET', '/v1/accounts', { headers: { 'consent-id': consentId } });
    expect(faulted.status).toBe(503);
    expect(faulted.body.tppMessages[0].code).toBe('SERVICE_UNAVAILABLE');
    expect((await sandbox.call('GET', '/v1/accounts', { headers: { 'consent-id': consentId } })).status).toBe(200);
  });
});
