/**
 * Berlin Group consents through the gateway, against the sandbox `bg` bank over real sockets: each SCA approach the
 * bank can choose is completed by the headless sandbox PSU through the gateway's `nextAction`, then the accounts,
 * balances and transactions are read through the gateway, which adds `Consent-ID` itself (the caller never sends
 * it), and DELETE /connections/{id} terminates the consent at the bank. The bank's control plane and recorded
 * requests prove what reached it.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authoriseAtBank } from '../../sandbox/headless-psu.js';
import { PSU_IP, problemOf, startHarness, type Harness } from '../e2e/harness.js';

interface View {
  connectionId: string;
  status: string;
  nextAction?: { type: string; url?: string; step?: string; pollAfterMs?: number; psuMessage?: string; methods?: { authenticationMethodId: string }[] };
  consent?: { id?: string; status?: string; validUntil?: string; frequencyPerDay?: number; approach?: string };
  reason?: { code: string; detail: string };
  authorizeUrl?: string;
}

interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  status: number;
}

describe('Berlin Group consents through the gateway (bg sandbox)', () => {
  let h: Harness;
  let ca: string;
  beforeAll(async () => {
    h = await startHarness();
    ca = readFileSync(h.sandbox.caFile, 'utf8');
  });
  afterAll(() => h?.close());

  const bg = () => h.sandbox.banks.bg;
  const control = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
    const response = await fetch(`${bg().controlUrl}${path}`, { method, ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}) });
    return (await response.json()) as Record<string, any>;
  };
  const bankRequests = async (): Promise<RecordedRequest[]> => (await (await fetch(`${h.sandbox.controlUrl}/requests?bank=bg`)).json()) as RecordedRequest[];

  const create = async (connectionId: string, extra: Record<string, unknown> = {}, psu: Record<string, string> = {}): Promise<View> => {
    const created = await h.call('/connections', { method: 'POST', body: { bank: 'bg', connectionId, access: 'all', psu: { ipAddress: PSU_IP, ...psu }, ...extra } });
    const body = (await created.json()) as View & { detail?: string };
    expect(created.status, body.detail).toBe(201);
    return body;
  };

  /** The PSU at the bank (a redirect), then its browser back at the gateway's callback. */
  const redirectThrough = async (view: View, psuId: string): Promise<View> => {
    expect(view.nextAction?.type).toBe('redirect');
    const { returnUrl } = await authoriseAtBank(view.nextAction!.url!, { ca, psuId });
    expect(returnUrl.href.startsWith(`${h.url}/callback/bg`)).toBe(true);
    const back = await fetch(returnUrl);
    const body = (await back.json()) as { status: string; detail?: string };
    expect(back.status, body.detail).toBe(200);
    return (await (await h.call(`/connections/${view.connectionId}`)).json()) as View;
  };

  /** Accounts, balances and transactions through the gateway: 200 each, `Consent-ID` at the bank. */
  const readAccounts = async (connectionId: string, consentId: string) => {
    const headers = { 'x-connection-id': connectionId, 'psu-ip-address': PSU_IP };
    const accounts = await h.call('/bg/xs2a/v1/accounts', { headers });
    const list = (await accounts.json()) as { accounts: { resourceId: string }[]; detail?: string };
    expect(accounts.status, list.detail).toBe(200);
    expect(list.accounts.length).toBeGreaterThan(0);
    const account = encodeURIComponent(list.accounts[0]!.resourceId);
    const balances = await h.call(`/bg/xs2a/v1/accounts/${account}/balances`, { headers });
    expect(balances.status).toBe(200);
    const transactions = await h.call(`/bg/xs2a/v1/accounts/${account}/transactions?bookingStatus=booked&dateFrom=2020-01-01`, { headers });
    expect(transactions.status).toBe(200);
    const seen = (await bankRequests()).filter((r) => r.path.includes('/v1/accounts') && r.headers['x-request-id'] !== undefined);
    for (const suffix of ['/v1/accounts', '/balances', '/transactions']) {
      const last = seen.filter((r) => r.path.split('?')[0]!.endsWith(suffix)).at(-1);
      expect(last?.status).toBe(200);
      expect(last?.headers['consent-id']).toBe(consentId);
    }
  };

  /** DELETE /connections/{id}: the consent is terminatedByTpp at the bank. */
  const deleteAndCheck = async (connectionId: string, consentId: string) => {
    const deleted = await h.call(`/connections/${connectionId}`, { method: 'DELETE' });
    expect(await deleted.json()).toMatchObject({ status: 'revoked', revocation: 'revoked' });
    expect((await control('GET', `/consents/${consentId}`)).consentStatus ?? (await control('GET', `/consents/${consentId}`)).status).toBe('terminatedByTpp');
  };

  it('redirect (scaRedirect + confirmation): consent, accounts with Consent-ID, DELETE terminates it at the bank', async () => {
    const created = await create('bg-redirect');
    expect(created).toMatchObject({ status: 'pending', nextAction: { type: 'redirect' }, consent: { status: 'received' } });
    expect(created.authorizeUrl).toBe(created.nextAction!.url);
    const consentId = created.consent!.id!;
    // Before the PSU consented, the gateway refuses account reads itself.
    const early = await h.call('/bg/xs2a/v1/accounts', { headers: { 'x-connection-id': 'bg-redirect' } });
    expect((await problemOf(early)).code).toBe('connection_pending');

    const view = await redirectThrough(created, 'max.mustermann');
    expect(view).toMatchObject({ status: 'active', consent: { id: consentId, status: 'valid', approach: 'redirect', frequencyPerDay: 4 } });
    expect(view.consent!.validUntil).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(view.nextAction).toBeUndefined();
    await readAccounts('bg-redirect', consentId);
    // An operation that declares no OAuth security but requires Consent-ID acts for the connection too.
    const beneficiaries = await h.call('/bg/xs2a/v1/trusted-beneficiaries', { headers: { 'x-connection-id': 'bg-redirect', 'psu-ip-address': PSU_IP } });
    expect((await problemOf(beneficiaries)).code).toBe('bank_client_error'); // the sandbox offers none: 405 SERVICE_INVALID
    const asked = (await bankRequests()).filter((r) => r.path.includes('/v1/trusted-beneficiaries')).at(-1);
    expect(asked?.headers['consent-id']).toBe(consentId);
    const unnamed = await h.call('/bg/xs2a/v1/trusted-beneficiaries', { headers: { 'psu-ip-address': PSU_IP } });
    expect((await problemOf(unnamed)).code).toBe('connection_required');
    await deleteAndCheck('bg-redirect', consentId);
  });

  it('OAuth SCA (scaOAuth, scope AIS:<consentId>): the token and Consent-ID on every read', async () => {
    const created = await create('bg-oauth', {}, { id: 'erika.mustermann' });
    const url = new URL(created.nextAction!.url!);
    expect(url.searchParams.get('scope')).toBe(`AIS:${created.consent!.id}`);
    const view = await redirectThrough(created, 'erika.mustermann');
    expect(view).toMatchObject({ status: 'active', consent: { status: 'valid', approach: 'oauth' } });
    await readAccounts('bg-oauth', view.consent!.id!);
    const reads = (await bankRequests()).filter((r) => r.path.split('?')[0]!.endsWith('/v1/accounts') && r.headers['consent-id'] === view.consent!.id);
    expect(reads.at(-1)?.headers.authorization).toMatch(/^Bearer /);
    await deleteAndCheck('bg-oauth', view.consent!.id!);
  });

  it('OAuth pre-step (the bank answers 401 TOKEN_INVALID first): sign-in, then the consent is created valid', async () => {
    const created = await create('bg-prestep', {}, { id: 'muster.gmbh' });
    expect(new URL(created.nextAction!.url!).searchParams.get('scope')).toBe('AIS');
    const view = await redirectThrough(created, 'muster.gmbh');
    expect(view).toMatchObject({ status: 'active', consent: { status: 'valid', approach: 'oauth-pre-step' } });
    await readAccounts('bg-prestep', view.consent!.id!);
    await deleteAndCheck('bg-prestep', view.consent!.id!);
  });

  it('decoupled: psuMessage, polling GET /connections/{id} at the bank no faster than pollAfterMs', async () => {
    const created = await create('bg-decoupled', { preferredApproach: 'decoupled' }, { id: 'max.mustermann' });
    expect(created).toMatchObject({ status: 'pending', nextAction: { type: 'decoupled', pollAfterMs: 1000 } });
    expect(created.nextAction!.psuMessage).toBeTruthy();
    // The PSU's app approves by itself 3 s (bank time) after the start: move the bank's clock on.
    await control('POST', '/clock', { advanceSeconds: 5 });
    let view = created;
    for (let attempt = 0; attempt < 10 && view.status === 'pending'; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, view.nextAction?.pollAfterMs ?? 1000));
      view = (await (await h.call('/connections/bg-decoupled')).json()) as View;
    }
    expect(view).toMatchObject({ status: 'active', consent: { status: 'valid', approach: 'decoupled' } });
    // Never faster than the bank allows: no 429 from the SCA status reads.
    expect((await bankRequests()).filter((r) => r.path.includes('/authorisations/') && r.status === 429)).toEqual([]);
    await readAccounts('bg-decoupled', view.consent!.id!);
    await deleteAndCheck('bg-decoupled', view.consent!.id!);
  });

  it('embedded: password, SCA method, OTP through POST /connections/{id}/psu-data', async () => {
    const created = await create('bg-embedded', { preferredApproach: 'embedded' }, { id: 'max.mustermann' });
    expect(created.nextAction).toMatchObject({ type: 'embedded', step: 'psu_authentication' });
    const send = async (data: Record<string, string>) => {
      const response = await h.call('/connections/bg-embedded/psu-data', { method: 'POST', body: data });
      const body = (await response.json()) as View & { code?: string; detail?: string };
      return { status: response.status, body };
    };
    const wrong = await send({ password: 'wrong' });
    expect(wrong.status).toBe(422);
    expect(wrong.body.code).toBe('psu_data_rejected');
    const authenticated = await send({ password: '12345' });
    expect(authenticated.status, authenticated.body.detail).toBe(200);
    expect(authenticated.body.nextAction).toMatchObject({ type: 'embedded', step: 'sca_method_selection' });
    expect(authenticated.body.nextAction!.methods!.map((m) => m.authenticationMethodId)).toEqual(expect.arrayContaining(['sms-otp', 'chip-tan']));
    const selected = await send({ authenticationMethodId: 'sms-otp' });
    expect(selected.body.nextAction).toMatchObject({ type: 'embedded', step: 'sca_authentication' });
    const done = await send({ scaAuthenticationData: '123456' });
    expect(done.body, done.body.detail).toMatchObject({ status: 'active', consent: { status: 'valid', approach: 'embedded' } });
    await readAccounts('bg-embedded', done.body.consent!.id!);
    await deleteAndCheck('bg-embedded', done.body.consent!.id!);
  });

  for (const [ending, reason] of [
    ['revoke', 'consent_revoked_by_psu'],
    ['expire', 'consent_expired'],
  ] as const) {
    it(`a consent the PSU revoked or that expired (${ending}) turns reconsent_required with its reason; nothing is deleted`, async () => {
      const connectionId = `bg-${ending}`;
      const view = await redirectThrough(await create(connectionId), 'max.mustermann');
      const consentId = view.consent!.id!;
      await control('POST', `/consents/${consentId}/${ending}`);
      const before = (await bankRequests()).length;
      const refused = await h.call('/bg/xs2a/v1/accounts', { headers: { 'x-connection-id': connectionId, 'psu-ip-address': PSU_IP } });
      const problem = await problemOf(refused);
      expect(refused.status).toBe(409);
      expect(problem.code).toBe('reconsent_required');
      const after = (await (await h.call(`/connections/${connectionId}`)).json()) as View;
      expect(after).toMatchObject({ status: 'reconsent_required', reason: { code: reason }, consent: { id: consentId } });
      // From now on the gateway answers without the bank; the connection is kept for the re-consent.
      const again = await h.call('/bg/xs2a/v1/accounts', { headers: { 'x-connection-id': connectionId, 'psu-ip-address': PSU_IP } });
      expect((await problemOf(again)).code).toBe('reconsent_required');
      const seen = (await bankRequests()).slice(before).filter((r) => r.path.endsWith('/v1/accounts'));
      expect(seen).toHaveLength(1);

      // The re-consent on the same connection id makes it active again with the new consent.
      const renewed = await redirectThrough(await create(connectionId), 'max.mustermann');
      expect(renewed).toMatchObject({ status: 'active', consent: { status: 'valid' } });
      expect(renewed.consent!.id).not.toBe(consentId);
      await readAccounts(connectionId, renewed.consent!.id!);
    });
  }

  it('frequencyPerDay 4: four unattended reads of an account pass, the fifth is a 429 from the gateway; the bank saw four', async () => {
    const view = await redirectThrough(await create('bg-budget', { frequencyPerDay: 4 }), 'max.mustermann');
    expect(view.consent!.frequencyPerDay).toBe(4);
    const present = { 'x-connection-id': 'bg-budget', 'psu-ip-address': PSU_IP };
    const list = (await (await h.call('/bg/xs2a/v1/accounts', { headers: present })).json()) as { accounts: { resourceId: string }[] };
    const account = list.accounts[0]!.resourceId;
    const path = `/bg/xs2a/v1/accounts/${encodeURIComponent(account)}/transactions?bookingStatus=booked&dateFrom=2020-01-01`;
    const statuses: number[] = [];
    for (let read = 0; read < 4; read++) statuses.push((await h.call(path, { headers: { 'x-connection-id': 'bg-budget' } })).status);
    expect(statuses).toEqual([200, 200, 200, 200]);
    const fifth = await h.call(path, { headers: { 'x-connection-id': 'bg-budget' } });
    expect(fifth.status).toBe(429);
    expect((await problemOf(fifth)).code).toBe('unattended_budget_exhausted');
    expect(Number(fifth.headers.get('retry-after'))).toBeGreaterThan(86_000);
    const unattended = (await bankRequests()).filter((r) => r.path.includes(`/${account}/transactions`) && r.headers['consent-id'] === view.consent!.id && r.headers['psu-ip-address'] === undefined);
    expect(unattended.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    // The PSU asking (PSU-IP-Address) is not counted, by the bank nor by the gateway.
    expect((await h.call(path, { headers: present })).status).toBe(200);
    const shown = (await (await h.call('/connections/bg-budget')).json()) as View & { unattended?: { frequencyPerDay: number; reads: { endpoint: string; account: string; remaining: number; resetAt?: string }[] } };
    expect(shown.unattended).toMatchObject({ frequencyPerDay: 4, reads: [{ endpoint: 'getTransactionList', account, remaining: 0 }] });
    expect(Date.parse(shown.unattended!.reads[0]!.resetAt!)).toBeGreaterThan(Date.now());
  });

  it('a re-consent completed by another PSU is refused: the new consent is ended at the bank, the connection keeps its PSU', async () => {
    const first = await redirectThrough(await create('bg-psu', {}, { id: 'max.mustermann' }), 'max.mustermann');
    expect(first).toMatchObject({ status: 'active', consent: { status: 'valid' } });
    const again = await create('bg-psu', {}, { id: 'erika.mustermann' });
    expect(again).toMatchObject({ status: 'active', consent: { id: first.consent!.id }, nextAction: { type: 'redirect' } });
    const newConsentId = new URL(again.nextAction!.url!).searchParams.get('scope')!.replace('AIS:', '');
    const { returnUrl } = await authoriseAtBank(again.nextAction!.url!, { ca, psuId: 'erika.mustermann' });
    const back = await fetch(returnUrl);
    expect(back.status).toBe(409);
    expect(await problemOf(back)).toMatchObject({ code: 'consent_failed', reason: 'psu_changed' });
    const after = (await (await h.call('/connections/bg-psu')).json()) as View;
    expect(after).toMatchObject({ status: 'active', consent: { id: first.consent!.id, status: 'valid' } });
    expect(after.nextAction).toBeUndefined();
    expect((await control('GET', `/consents/${newConsentId}`)).consentStatus ?? (await control('GET', `/consents/${newConsentId}`)).status).toBe('terminatedByTpp');
    await readAccounts('bg-psu', first.consent!.id!);
  });

  it('returnTo must be on an allowed origin (the gateway own, or returnToOrigins): else 400, nothing created', async () => {
    const evil = await h.call('/connections', { method: 'POST', body: { bank: 'bg', connectionId: 'bg-return', returnTo: 'https://evil.example.net/x', psu: { ipAddress: PSU_IP } } });
    expect(evil.status).toBe(400);
    expect((await problemOf(evil)).detail).toMatch(/returnToOrigins/);
    expect((await problemOf(await h.call('/connections/bg-return'))).code).toBe('connection_not_found');
    const own = await h.call('/connections', { method: 'POST', body: { bank: 'bg', connectionId: 'bg-return', returnTo: `${h.url}/done`, psu: { ipAddress: PSU_IP } } });
    expect(own.status).toBe(201);
    const { returnUrl } = await authoriseAtBank(((await own.json()) as View).nextAction!.url!, { ca, psuId: 'max.mustermann' });
    const back = await fetch(returnUrl, { redirect: 'manual' });
    expect(back.status).toBe(303);
    const target = new URL(back.headers.get('location')!);
    expect(target.origin + target.pathname).toBe(`${h.url}/done`);
    expect(target.searchParams.get('status')).toBe('active');
  });

  it('a payment through the gateway: nextAction, the PSU authorises at the bank, the status final; one Idempotency-Key, one payment', async () => {
    await redirectThrough(await create('bg-pay'), 'max.mustermann');
    const profile = (await control('GET', '')).psus.find((p: { psuId: string }) => p.psuId === 'max.mustermann') as { ibans: string[] };
    const payment = {
      debtorAccount: { iban: profile.ibans[0] },
      instructedAmount: { currency: 'EUR', amount: '42.50' },
      creditorAccount: { iban: 'DE02120300000000202051' },
      creditorName: 'Stadtwerke Musterstadt',
      remittanceInformationUnstructured: 'Rechnung 4711',
    };
    const headers = { 'x-connection-id': 'bg-pay', 'psu-ip-address': PSU_IP, 'idempotency-key': 'pay-4711' };
    const initiated = await h.call('/bg/xs2a/v1/payments/sepa-credit-transfers', { method: 'POST', headers, body: payment });
    const body = (await initiated.json()) as { paymentId: string; transactionStatus: string; nextAction?: { type: string; url: string }; detail?: string };
    expect(initiated.status, body.detail).toBe(201);
    expect(body).toMatchObject({ transactionStatus: 'RCVD', nextAction: { type: 'redirect' } });

    // The caller's retry (a timeout, a crash) with the same Idempotency-Key: the first answer, no second payment.
    const retried = await h.call('/bg/xs2a/v1/payments/sepa-credit-transfers', { method: 'POST', headers, body: payment });
    expect(retried.status).toBe(201);
    expect(((await retried.json()) as { paymentId: string }).paymentId).toBe(body.paymentId);
    const initiations = (await bankRequests()).filter((r) => r.method === 'POST' && r.path.endsWith('/v1/payments/sepa-credit-transfers'));
    expect(initiations).toHaveLength(1);
    // The bank sends the PSU back to the gateway, not to the caller.
    expect(initiations[0]!.headers['tpp-redirect-uri']).toMatch(new RegExp(`^${h.url}/callback/bg\\?state=`));

    const { returnUrl } = await authoriseAtBank(body.nextAction!.url, { ca, psuId: 'max.mustermann' });
    const back = await fetch(returnUrl);
    const result = (await back.json()) as { paymentId: string; authorisation: string; transactionStatus?: string; detail?: string };
    expect(back.status, result.detail).toBe(200);
    expect(result).toMatchObject({ paymentId: body.paymentId, authorisation: 'authorised' });
    expect(['ACSP', 'ACSC']).toContain(result.transactionStatus);

    // Settled 2 s (bank time) later: GET of its status through the gateway shows the final status.
    await control('POST', '/clock', { advanceSeconds: 3 });
    const status = await h.call(`/bg/xs2a/v1/payments/sepa-credit-transfers/${body.paymentId}/status`, { headers: { 'x-connection-id': 'bg-pay', 'psu-ip-address': PSU_IP } });
    expect(status.status).toBe(200);
    expect(((await status.json()) as { transactionStatus: string }).transactionStatus).toBe('ACSC');
    expect((await control('GET', `/payments/${body.paymentId}`)).transactionStatus).toBe('ACSC');
  });

  it('a payment by OAuth SCA (scaOAuth, scope PIS:<paymentId>) through the gateway; the AIS token never goes with it', async () => {
    await redirectThrough(await create('bg-pay-oauth', {}, { id: 'erika.mustermann' }), 'erika.mustermann');
    const profile = (await control('GET', '')).psus.find((p: { psuId: string }) => p.psuId === 'erika.mustermann') as { ibans: string[] };
    const payment = { debtorAccount: { iban: profile.ibans[0] }, instructedAmount: { currency: 'EUR', amount: '10.00' }, creditorAccount: { iban: 'DE02120300000000202051' }, creditorName: 'Stadtwerke' };
    const initiated = await h.call('/bg/xs2a/v1/payments/instant-sepa-credit-transfers', { method: 'POST', headers: { 'x-connection-id': 'bg-pay-oauth', 'psu-ip-address': PSU_IP, 'psu-id': 'erika.mustermann' }, body: payment });
    const body = (await initiated.json()) as { paymentId: string; nextAction?: { type: string; url: string }; detail?: string };
    expect(initiated.status, body.detail).toBe(201);
    expect(new URL(body.nextAction!.url).searchParams.get('scope')).toBe(`PIS:${body.paymentId}`);
    const sent = (await bankRequests()).filter((r) => r.method === 'POST' && r.path.endsWith('/v1/payments/instant-sepa-credit-transfers')).at(-1);
    expect(sent?.headers.authorization).toBeUndefined();
    const { returnUrl } = await authoriseAtBank(body.nextAction!.url, { ca, psuId: 'erika.mustermann' });
    const result = (await (await fetch(returnUrl)).json()) as { authorisation: string; transactionStatus?: string };
    expect(result).toMatchObject({ authorisation: 'authorised', transactionStatus: 'ACSC' });
  });

  it('terms a bank cannot carry are refused, naming them, before anything is created; Berlin Group carries them all', async () => {
    const terms = { validUntil: '2030-01-01', recurring: false, frequencyPerDay: 1 };
    // seb and sg speak plain OAuth (a consent is its scopes); ukob's 4.0 intents have no one-off flag nor frequency.
    for (const [bank, refused] of [['seb', ['validUntil', 'recurring: false', 'frequencyPerDay']], ['sg', ['validUntil', 'recurring: false', 'frequencyPerDay']], ['ukob', ['recurring: false', 'frequencyPerDay']]] as const) {
      const created = await h.call('/connections', { method: 'POST', body: { bank, connectionId: `${bank}-terms`, ...terms } });
      expect(created.status, bank).toBe(400);
      const problem = await problemOf(created);
      expect(problem.code).toBe('bad_request');
      expect(problem.detail, bank).toContain(`cannot carry ${refused.join(', ')} to the bank`);
      expect((await problemOf(await h.call(`/connections/${bank}-terms`))).code).toBe('connection_not_found');
    }
    const onlyAccess = await h.call('/connections', { method: 'POST', body: { bank: 'seb', connectionId: 'seb-terms', access: { services: ['balances'] } } });
    expect((await problemOf(onlyAccess)).detail).toMatch(/cannot carry access to the bank, .*: leave it out \(it takes scopes\)/);
    const bg = await h.call('/connections', { method: 'POST', body: { bank: 'bg', connectionId: 'bg-terms', ...terms, psu: { ipAddress: PSU_IP } } });
    expect(bg.status, ((await bg.clone().json()) as { detail?: string }).detail).toBe(201);
  });

  it('a Berlin Group consent needs the PSU present: no psu.ipAddress is a 400 naming it', async () => {
    const created = await h.call('/connections', { method: 'POST', body: { bank: 'bg', connectionId: 'bg-no-ip' } });
    expect(created.status).toBe(400);
    expect((await problemOf(created)).detail).toMatch(/psu\.ipAddress/);
  });
});
