import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bgOAuth, startBgSandbox, TPP_REDIRECT, type BgSandbox } from './bg-helpers.js';

const SCT = '/v1/payments/sepa-credit-transfers';

describe('bg sandbox bank: payments with SCA', () => {
  let sandbox: BgSandbox;
  let ibans: Record<string, string[]>;

  const payment = (debtorIban: string, extra: Record<string, unknown> = {}) => ({
    debtorAccount: { iban: debtorIban },
    instructedAmount: { currency: 'EUR', amount: '42.50' },
    creditorAccount: { iban: 'DE02120300000000202051' },
    creditorName: 'Stadtwerke Musterstadt',
    remittanceInformationUnstructured: 'Rechnung 4711',
    ...extra,
  });

  beforeAll(async () => {
    sandbox = await startBgSandbox({ bg: { decoupledApprovalMs: 0, decoupledPollIntervalMs: 0, settlementMs: 60_000 } });
    const psus = (await sandbox.control('GET', '')).body.psus as Array<{ psuId: string; ibans: string[] }>;
    ibans = Object.fromEntries(psus.map((psu) => [psu.psuId, psu.ibans]));
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  it('redirect: RCVD → scaRedirect → confirmation → ACSP, then ACSC once settled', async () => {
    const created = await sandbox.call('POST', SCT, { headers: { 'tpp-redirect-uri': TPP_REDIRECT }, body: payment(ibans['max.mustermann']![0]!) });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ transactionStatus: 'RCVD', paymentId: expect.any(String) });
    const { paymentId, _links: links } = created.body;
    expect(created.headers.get('location')).toContain(`/psd2${SCT}/${paymentId}`);
    const { returnUrl } = await sandbox.psu(links.scaRedirect.href, { psuId: 'max.mustermann' });
    expect((await sandbox.call('GET', links.status.href)).body.transactionStatus).toBe('RCVD');
    const confirmed = await sandbox.call('PUT', links.confirmation.href, { body: { confirmationCode: returnUrl.searchParams.get('code') } });
    expect(confirmed.body.scaStatus).toBe('finalised');
    expect((await sandbox.call('GET', links.status.href)).body).toEqual({ transactionStatus: 'ACSP', fundsAvailable: true });
    await sandbox.control('POST', '/clock', { advanceSeconds: 60 });
    expect((await sandbox.call('GET', links.status.href)).body.transactionStatus).toBe('ACSC');
    const read = await sandbox.call('GET', `${SCT}/${paymentId}`);
    expect(read.body).toMatchObject({ transactionStatus: 'ACSC', creditorName: 'Stadtwerke Musterstadt', instructedAmount: { amount: '42.50' } });
    expect((await sandbox.call('DELETE', `${SCT}/${paymentId}`)).body.tppMessages[0].code).toBe('CANCELLATION_INVALID');
  });

  it('OAuth: scope PIS:<paymentId>; an instant payment is ACSC at once', async () => {
    const created = await sandbox.call('POST', '/v1/payments/instant-sepa-credit-transfers', {
      headers: { 'psu-id': 'erika.mustermann' },
      body: payment(ibans['erika.mustermann']![0]!),
    });
    expect(created.body._links.scaOAuth.href).toBe(sandbox.bg.authorizationServer.metadataUrl);
    const tokens = await bgOAuth(sandbox, `PIS:${created.body.paymentId}`, { psuId: 'erika.mustermann' }, created.body._links.scaOAuth.href);
    expect(tokens.scope).toBe(`PIS:${created.body.paymentId}`);
    expect(tokens.refresh_token).toBeUndefined();
    expect((await sandbox.call('GET', created.body._links.status.href)).body.transactionStatus).toBe('ACSC');
  });

  it('OAuth pre-step: the PIS token identifies the PSU, the payment is still authorised through OAuth (PIS:<id>)', async () => {
    const refused = await sandbox.call('POST', SCT, { headers: { 'psu-id': 'muster.gmbh' }, body: payment(ibans['muster.gmbh']![0]!) });
    expect(refused.status).toBe(401);
    expect(refused.body.tppMessages[0].code).toBe('TOKEN_INVALID');
    const login = await bgOAuth(sandbox, 'PIS', { psuId: 'muster.gmbh' });
    const created = await sandbox.call('POST', SCT, { body: payment(ibans['muster.gmbh']![0]!), token: login.access_token });
    expect(created.status).toBe(201);
    expect(created.body.transactionStatus).toBe('RCVD');
    await bgOAuth(sandbox, `PIS:${created.body.paymentId}`, { psuId: 'muster.gmbh' }, created.body._links.scaOAuth.href);
    expect((await sandbox.call('GET', created.body._links.status.href)).body.transactionStatus).toBe('ACSP');
    // An AIS token is no PIS pre-step.
    const aisLogin = await bgOAuth(sandbox, 'AIS', { psuId: 'muster.gmbh' });
    const wrongScope = await sandbox.call('POST', SCT, { body: payment(ibans['muster.gmbh']![0]!), token: aisLogin.access_token });
    expect(wrongScope.status).toBe(401);
  });

  it('decoupled: started in the app, approved on the control plane → ACSP', async () => {
    const created = await sandbox.call('POST', SCT, {
      headers: { 'psu-id': 'max.mustermann', 'tpp-decoupled-preferred': 'true' },
      body: payment(ibans['max.mustermann']![0]!),
    });
    expect(created.headers.get('aspsp-sca-approach')).toBe('DECOUPLED');
    expect(created.body.scaStatus).toBe('started');
    const authorisationId = created.body._links.scaStatus.href.split('/').pop();
    await sandbox.control('POST', `/authorisations/${authorisationId}/approve`);
    expect((await sandbox.call('GET', created.body._links.status.href)).body.transactionStatus).toBe('ACSP');
  });

  it('embedded: an amount the account does not cover is authorised, then rejected (RJCT, fundsAvailable false)', async () => {
    const created = await sandbox.call('POST', SCT, {
      headers: { 'psu-id': 'erika.mustermann', 'tpp-redirect-preferred': 'false' },
      body: payment(ibans['erika.mustermann']![0]!, { instructedAmount: { currency: 'EUR', amount: '99999.00' } }),
    });
    const authorised = await sandbox.call('PUT', created.body._links.updatePsuAuthentication.href, { body: { psuData: { password: '12345' } } });
    await sandbox.call('PUT', authorised.body._links.authoriseTransaction.href, { body: { scaAuthenticationData: '123456' } });
    const status = await sandbox.call('GET', created.body._links.status.href);
    expect(status.body).toMatchObject({ transactionStatus: 'RJCT', fundsAvailable: false, psuMessage: expect.stringContaining('insufficient funds') });
  });

  it("the SCA fails when the debtor account is not the PSU's: RJCT", async () => {
    const created = await sandbox.call('POST', SCT, {
      headers: { 'tpp-decoupled-preferred': 'true' },
      body: payment(ibans['max.mustermann']![0]!),
    });
    const started = await sandbox.call('POST', created.body._links.startAuthorisationWithPsuIdentification.href, { headers: { 'psu-id': 'erika.mustermann' } });
    expect(started.body.scaStatus).toBe('failed');
    expect((await sandbox.call('GET', created.body._links.status.href)).body.transactionStatus).toBe('RJCT');
  });

  it('cancels a payment not yet authorised and a future-dated one (DELETE → 204, CANC)', async () => {
    const pending = await sandbox.call('POST', SCT, { headers: { 'tpp-redirect-uri': TPP_REDIRECT }, body: payment(ibans['max.mustermann']![0]!) });
    expect((await sandbox.call('DELETE', `${SCT}/${pending.body.paymentId}`)).status).toBe(204);
    expect((await sandbox.call('GET', pending.body._links.status.href)).body.transactionStatus).toBe('CANC');

    const nextWeek = new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10);
    const future = await sandbox.call('POST', SCT, {
      headers: { 'psu-id': 'max.mustermann', 'tpp-decoupled-preferred': 'true' },
      body: payment(ibans['max.mustermann']![0]!, { requestedExecutionDate: nextWeek }),
    });
    await sandbox.control('POST', `/authorisations/${future.body._links.scaStatus.href.split('/').pop()}/approve`);
    expect((await sandbox.call('GET', future.body._links.status.href)).body.transactionStatus).toBe('ACTC');
    expect((await sandbox.call('DELETE', `${SCT}/${future.body.paymentId}`)).status).toBe(204);
    expect((await sandbox.call('GET', future.body._links.status.href)).body.transactionStatus).toBe('CANC');
  });

  it('refuses what the bank does not offer and payments of another TPP', async () => {
    const xml = await sandbox.call('POST', '/v1/payments/pain.001-sepa-credit-transfers', { headers: { 'tpp-redirect-uri': TPP_REDIRECT }, body: payment(ibans['max.mustermann']![0]!) });
    expect(xml.status).toBe(404);
    expect(xml.body.tppMessages[0].code).toBe('PRODUCT_UNKNOWN');
    const bulk = await sandbox.call('POST', '/v1/bulk-payments/sepa-credit-transfers', { headers: { 'tpp-redirect-uri': TPP_REDIRECT }, body: { payments: [] } });
    expect(bulk.status).toBe(405);
    const invalid = await sandbox.call('POST', SCT, { headers: { 'tpp-redirect-uri': TPP_REDIRECT }, body: { instructedAmount: { currency: 'EUR', amount: 'ten' } } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.tppMessages[0].code).toBe('FORMAT_ERROR');

    const created = await sandbox.call('POST', SCT, { headers: { 'tpp-redirect-uri': TPP_REDIRECT }, body: payment(ibans['max.mustermann']![0]!) });
    const foreign = await sandbox.call('GET', `${SCT}/${created.body.paymentId}/status`, { agent: sandbox.bgAgents.otherTpp });
    expect(foreign.status).toBe(403);
    expect(foreign.body.tppMessages[0].code).toBe('RESOURCE_UNKNOWN');
    const wrongProduct = await sandbox.call('GET', `/v1/payments/instant-sepa-credit-transfers/${created.body.paymentId}/status`);
    expect(wrongProduct.status).toBe(403);
  });

  it('a standing order (periodic-payments) is ACSP after SCA and can be cancelled', async () => {
    const created = await sandbox.call('POST', '/v1/periodic-payments/sepa-credit-transfers', {
      headers: { 'psu-id': 'max.mustermann', 'tpp-decoupled-preferred': 'true' },
      body: payment(ibans['max.mustermann']![0]!, { startDate: new Date(Date.now() + 86_400_000).toISOString().slice(0, 10), frequency: 'Monthly' }),
    });
    expect(created.status).toBe(201);
    await sandbox.control('POST', `/authorisations/${created.body._links.scaStatus.href.split('/').pop()}/approve`);
    expect((await sandbox.call('GET', created.body._links.status.href)).body.transactionStatus).toBe('ACSP');
    expect((await sandbox.call('DELETE', `/v1/periodic-payments/sepa-credit-transfers/${created.body.paymentId}`)).status).toBe(204);
  });
});
