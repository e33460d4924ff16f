/**
 * A STET payment request (the SG-like sandbox) authorised through the gateway: the bank is given the gateway's report
 * URLs, the caller gets `nextAction: redirect` to the bank's consentApproval page, the sandbox PSU approves there and
 * comes back to the gateway, which reads the final status; a retried `Idempotency-Key` makes one payment at the bank.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authoriseAtBank } from '../../sandbox/headless-psu.js';
import { SG_PAYMENT } from '../fixtures/sg-payment.js';
import { startHarness, type Harness } from '../e2e/harness.js';

describe('STET payments through the gateway (sg sandbox)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h?.close());

  const initiate = (key: string) => h.call('/sg/pisp/payment-requests', { method: 'POST', headers: { 'idempotency-key': key }, body: SG_PAYMENT });

  it('nextAction to consentApproval, the PSU back at the gateway, the status ACSP then ACSC; one payment per Idempotency-Key', async () => {
    const created = await initiate('sg-pay-1');
    const body = (await created.json()) as { nextAction?: { type: string; url: string }; detail?: string };
    expect(created.status, body.detail).toBe(201);
    expect(body.nextAction?.type).toBe('redirect');
    const id = created.headers.get('location')!.split('/').pop()!;

    const again = await initiate('sg-pay-1');
    expect(again.status).toBe(201);
    expect(again.headers.get('x-bankgate-idempotent-replay')).toBe('true');
    expect(((await again.json()) as { nextAction?: { url: string } }).nextAction?.url).toBe(body.nextAction!.url);
    const posts = (await h.bankRequests('sg')).filter((r) => r.method === 'POST' && r.path.endsWith('/payment-requests'));
    expect(posts).toHaveLength(1);

    const { returnUrl } = await authoriseAtBank(body.nextAction!.url, { ca: readFileSync(h.sandbox.caFile, 'utf8'), psuId: h.sandbox.banks.sg.psuIds[0]! });
    expect(returnUrl.href.startsWith(`${h.url}/callback/sg?`)).toBe(true);
    const back = await fetch(returnUrl);
    const result = (await back.json()) as { paymentId: string; authorisation: string; transactionStatus?: string; detail?: string };
    expect(back.status, result.detail).toBe(200);
    expect(result).toMatchObject({ paymentId: id, authorisation: 'authorised', transactionStatus: 'ACSP' });

    // Settled a moment later: GET of the payment request through the gateway shows it.
    let status = '';
    for (let attempt = 0; attempt < 20 && status !== 'ACSC'; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const read = await h.call(`/sg/pisp/payment-requests/${id}`);
      status = ((await read.json()) as { paymentRequest: { paymentInformationStatus: string } }).paymentRequest.paymentInformationStatus;
    }
    expect(status).toBe('ACSC');
  });

  it('the PSU refuses at the bank: the payment is RJCT and the gateway says failed', async () => {
    const created = await initiate('sg-pay-2');
    const body = (await created.json()) as { nextAction: { url: string } };
    const { returnUrl } = await authoriseAtBank(body.nextAction.url, { ca: readFileSync(h.sandbox.caFile, 'utf8'), psuId: h.sandbox.banks.sg.psuIds[0]!, decision: 'deny' });
    const result = (await (await fetch(returnUrl)).json()) as { authorisation: string; transactionStatus?: string };
    expect(result).toMatchObject({ authorisation: 'failed', transactionStatus: 'RJCT' });
  });
});
