import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SG_PAYMENT } from '../fixtures/sg-payment.js';
import { problemOf, startHarness, type Harness } from './harness.js';

describe('consent flow through the gateway, both banks', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h?.close());

  it('SEB-like: static AS, client_secret_post, then accounts through the gateway', async () => {
    await h.connect('seb', 'seb-1');
    const status = await h.call('/connections/seb-1');
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({ connectionId: 'seb-1', bank: 'seb', status: 'active', scopes: expect.arrayContaining(['psd2_accounts']) });

    const accounts = await h.call('/seb/ais/accounts', { headers: { 'x-connection-id': 'seb-1', 'psu-ip-address': '203.0.113.7' } });
    expect(accounts.status).toBe(200);
    const body = (await accounts.json()) as { accounts: { resourceId: string; iban?: string }[] };
    expect(body.accounts.length).toBeGreaterThan(0);

    const balances = await h.call(`/seb/ais/accounts/${encodeURIComponent(body.accounts[0]!.resourceId)}/balances`, { headers: { 'x-connection-id': 'seb-1', 'psu-ip-address': '203.0.113.7' } });
    expect(balances.status).toBe(200);
    expect(((await balances.json()) as { balances: unknown[] }).balances.length).toBeGreaterThan(0);
  });

  it('SG-like: OIDC discovery, acr L1, tls_client_auth on the mTLS alias, signed calls', async () => {
    await h.connect('sg', 'sg-1');
    const accounts = await h.call('/sg/aisp/accounts', { headers: { 'x-connection-id': 'sg-1' } });
    expect(accounts.status).toBe(200);
    const body = (await accounts.json()) as { accounts: { resourceId: string }[] };
    expect(body.accounts.length).toBeGreaterThan(0);
    const transactions = await h.call(`/sg/aisp/accounts/${body.accounts[0]!.resourceId}/transactions`, { headers: { 'x-connection-id': 'sg-1' } });
    expect(transactions.status).toBe(200);

    const seen = (await h.bankRequests('sg')).filter((r) => r.path.endsWith('/accounts'));
    expect(seen.at(-1)?.headers.signature).toMatch(/^keyId="[^"]+",algorithm="rsa-sha256",headers="\(request-target\) digest x-request-id/);
    expect(seen.at(-1)?.headers.digest).toMatch(/^SHA-256=/);
  });

  it('SG-like: a client-credentials operation needs no connection (payment request + status)', async () => {
    const created = await h.call('/sg/pisp/payment-requests', { method: 'POST', body: SG_PAYMENT });
    expect(created.status).toBe(201);
    const location = created.headers.get('location');
    expect(location).toBeTruthy();
    const id = location!.split('/').pop()!;
    const read = await h.call(`/sg/pisp/payment-requests/${id}`);
    expect(read.status).toBe(200);
    expect((await h.stats()).banks.sg.tokenRequests.client_credentials).toBe(1);
  });

  it('a forged or replayed callback is refused with a problem', async () => {
    const response = await fetch(`${h.url}/callback/seb?code=forged&state=nope&iss=${encodeURIComponent(h.sandbox.banks.seb.authorizationServer.issuer)}`);
    expect(response.status).toBe(400);
    expect((await problemOf(response)).code).toBe('consent_failed');
  });

  it('DELETE /connections/{id} revokes at the bank that supports it and forgets', async () => {
    await h.connect('sg', 'sg-revoke');
    const deleted = await h.call('/connections/sg-revoke', { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    expect(await deleted.json()).toMatchObject({ status: 'revoked', revocation: 'revoked' });
    const after = await h.call('/connections/sg-revoke');
    expect((await problemOf(after)).code).toBe('connection_not_found');

    await h.connect('seb', 'seb-revoke');
    const sebDeleted = await h.call('/connections/seb-revoke', { method: 'DELETE' });
    expect(await sebDeleted.json()).toMatchObject({ status: 'revoked', revocation: 'not_supported' });
  });

  it('explains an unknown bank and a bad body on POST /connections', async () => {
    const unknown = await h.call('/connections', { method: 'POST', body: { bank: 'nordea' } });
    expect(unknown.status).toBe(404);
    expect((await problemOf(unknown)).code).toBe('unknown_bank');
    const bad = await h.call('/connections', { method: 'POST', body: '{not json' });
    expect((await problemOf(bad)).code).toBe('bad_request');
  });
});
