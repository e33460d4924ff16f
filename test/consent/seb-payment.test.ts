/**
 * An SEB payment authorised through the gateway, as the SEB-like sandbox signs it: the initiation (under the PSU's
 * token) offers Mobile BankID through `…/authorisations`; the gateway starts the signing itself, answers the caller
 * with `nextAction: decoupled` and `bankgatePaymentId`, polls the signing at the bank when the caller polls
 * `GET /payments/{id}`, and follows the payment to ACSC. One `Idempotency-Key`, one payment at the bank.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PSU_IP, problemOf, startHarness, type Harness } from '../e2e/harness.js';

interface PaymentView {
  id: string;
  paymentId: string;
  authorisation: string;
  transactionStatus?: string;
  final: boolean;
  nextAction?: { type: string; pollAfterMs?: number; psuMessage?: string };
}

describe('SEB payments through the gateway (seb sandbox)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h?.close());

  it('Mobile BankID signing started by the gateway, polled through GET /payments/{id} to ACSC', async () => {
    await h.connect('seb', 'seb-pay');
    const headers = { 'x-connection-id': 'seb-pay', 'psu-ip-address': PSU_IP };
    const accounts = (await (await h.call('/seb/ais/accounts', { headers })).json()) as { accounts: { iban: string }[] };
    const payment = { instructedAmount: { currency: 'SEK', amount: '100.00' }, debtorAccount: { iban: accounts.accounts[0]!.iban }, creditorAccount: { iban: 'SE4550000000058398257466' }, creditorName: 'Bertil Berg AB' };
    const initiate = () => h.call('/seb/pis/payments/sepa-credit-transfers', { method: 'POST', headers: { ...headers, 'idempotency-key': 'seb-4711' }, body: payment });
    const created = await initiate();
    const body = (await created.json()) as { paymentId: string; bankgatePaymentId: string; nextAction?: { type: string; psuMessage?: string; pollAfterMs: number }; detail?: string };
    expect(created.status, body.detail).toBe(201);
    expect(body.nextAction).toMatchObject({ type: 'decoupled', psuMessage: 'Öppna Mobilt BankID app' });
    expect(((await (await initiate()).json()) as { paymentId: string }).paymentId).toBe(body.paymentId);
    const seen = await h.bankRequests('seb');
    expect(seen.filter((r) => r.method === 'POST' && r.path.endsWith('/payments/sepa-credit-transfers'))).toHaveLength(1);
    expect(seen.filter((r) => r.method === 'POST' && r.path.endsWith(`/${body.paymentId}/authorisations`))).toHaveLength(1);

    // The sandbox's Mobile BankID signs by itself 3 s after the start: poll as nextAction says.
    let view: PaymentView | undefined;
    for (let attempt = 0; attempt < 20 && view?.transactionStatus !== 'ACSC'; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, view?.nextAction?.pollAfterMs ?? body.nextAction!.pollAfterMs));
      const read = await h.call(`/payments/${body.bankgatePaymentId}`);
      view = (await read.json()) as PaymentView;
      expect(read.status).toBe(200);
    }
    expect(view).toMatchObject({ paymentId: body.paymentId, authorisation: 'authorised', transactionStatus: 'ACSC', final: true });
    const status = await h.call(`/seb/pis/payments/sepa-credit-transfers/${body.paymentId}/status`, { headers });
    expect(((await status.json()) as { transactionStatus: string }).transactionStatus).toBe('ACSC');
  });

  it("another caller's payment, or none, is not found", async () => {
    expect((await problemOf(await h.call('/payments/payment.nope'))).code).toBe('payment_not_found');
  });
});
