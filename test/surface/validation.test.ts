import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PSU_IP, problemOf, startHarness, type Harness } from '../e2e/harness.js';

describe('requests are checked against the bank spec before the bank is called', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    await h.connect('seb', 'v-seb');
  });
  afterAll(() => h?.close());

  const psu = { 'x-connection-id': 'v-seb', 'psu-ip-address': PSU_IP };
  const payment = { instructedAmount: { currency: 'SEK', amount: '100.00' }, debtorAccount: { iban: 'SE3750000000054400047881' }, creditorAccount: { iban: 'SE2550000000054400047903' }, creditorName: 'ACME' };

  it.each([
    ['a missing required header', '/seb/ais/accounts', { 'x-connection-id': 'v-seb' }, undefined, 'header.PSU-IP-Address'],
    ['a PSU header out of its real format (the bank says only "string")', '/seb/ais/accounts', { ...psu, 'psu-ip-address': 'localhost' }, undefined, 'header.PSU-IP-Address'],
    ['a parameter of the wrong type', '/seb/ais/accounts?withBalance=sometimes', psu, undefined, 'query.withBalance'],
    ['a value outside the enum', '/seb/ais/accounts/a1/transactions?bookingStatus=all', psu, undefined, 'query.bookingStatus'],
    ['a body missing a required member', '/seb/pis/payments/sepa-credit-transfers', psu, { ...payment, creditorName: undefined }, 'body/creditorName'],
    ['a body member of the wrong format', '/seb/pis/payments/sepa-credit-transfers', psu, { ...payment, instructedAmount: { currency: 'sek', amount: '1' } }, 'body/instructedAmount/currency'],
    ['a body that is not JSON', '/seb/pis/payments/sepa-credit-transfers', psu, '{"instructedAmount":', 'body'],
  ])('%s → 400 listing it, and nothing reaches the bank', async (_name, path, headers, body, at) => {
    await h.resetStats();
    const response = await h.call(path, { method: body === undefined ? 'GET' : 'POST', headers, body });
    expect(response.status).toBe(400);
    const problem = await problemOf(response);
    expect(problem.code).toBe('bad_request');
    expect((problem.violations as { at: string }[]).map((v) => v.at)).toContain(at);
    const stats = await h.stats();
    expect(stats.banks.seb.resourceCalls).toEqual({});
    expect(stats.banks.seb.tokenRequests.refresh_token ?? 0).toBe(0);
  });

  it('a valid payment goes through, and the bank answer is checked against its spec (enforced in the sandbox)', async () => {
    const response = await h.call('/seb/pis/payments/sepa-credit-transfers', { method: 'POST', headers: psu, body: payment });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ transactionStatus: 'RCVD', paymentId: expect.any(String) });
  });

  it('a bank error becomes a problem with a stable code, the bank body under bankError', async () => {
    const response = await h.call('/seb/ais/accounts/no-such-account/balances', { headers: psu });
    expect(response.status).toBe(404);
    const problem = await problemOf(response);
    expect(problem.code).toBe('bank_not_found');
    expect(problem.bank).toBe('seb');
    expect(problem.bankStatus).toBe(404);
    expect(problem.bankMessages).toEqual([expect.objectContaining({ code: expect.any(String) })]);
    expect(problem.bankError).toHaveProperty('tppMessages');
  });
});
