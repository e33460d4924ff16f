// Type tests, checked by `npm run typecheck` (tsc): each @ts-expect-error line must fail to compile, or tsc fails.
import { expectTypeOf } from 'vitest';
import { createGatewayClient } from '../../plugin/client/create-gateway-client.js';

const gateway = createGatewayClient({ baseUrl: 'http://gateway.internal', credential: 'key' });
const header = { 'X-Connection-Id': 'c', 'PSU-IP-Address': '203.0.113.7' };

export async function typeTests() {
  const ok = await gateway.GET('/seb/ais/accounts', { params: { header, query: { withBalance: true } } });
  expectTypeOf(ok.data!.accounts[0]!.resourceId).toEqualTypeOf<string>();
  expectTypeOf(ok.error!.code).toEqualTypeOf<string>();

  await gateway.GET('/seb/ais/accounts/{account-id}/balances', { params: { header, path: { 'account-id': 'a1' } } });
  await gateway.GET('/sg/pisp/payment-requests/{paymentRequestResourceId}', { params: { path: { paymentRequestResourceId: 'p1' } } });

  // @ts-expect-error a path the gateway does not mount
  await gateway.GET('/seb/ais/not-an-operation', {});
  // @ts-expect-error a method the operation does not have
  await gateway.DELETE('/seb/ais/accounts', { params: { header } });
  // @ts-expect-error the required PSU-IP-Address header is missing
  await gateway.GET('/seb/ais/accounts', { params: { header: { 'X-Connection-Id': 'c' } } });
  // @ts-expect-error the required X-Connection-Id header is missing (a PSU operation)
  await gateway.GET('/seb/ais/accounts', { params: { header: { 'PSU-IP-Address': '203.0.113.7' } } });
  // @ts-expect-error withBalance is a boolean
  await gateway.GET('/seb/ais/accounts', { params: { header, query: { withBalance: 'yes' } } });
  // @ts-expect-error the path parameter is missing
  await gateway.GET('/seb/ais/accounts/{account-id}/balances', { params: { header } });
  await gateway.POST('/seb/pis/payments/{payment-product}', {
    params: { header, path: { 'payment-product': 'sepa-credit-transfers' } },
    // @ts-expect-error creditorName is required by the bank's spec
    body: { instructedAmount: { currency: 'SEK', amount: '1.00' }, debtorAccount: {}, creditorAccount: {} },
  });
  await gateway.POST('/seb/pis/payments/{payment-product}', {
    // @ts-expect-error not one of the payment products the bank declares
    params: { header, path: { 'payment-product': 'bitcoin' } },
    body: { instructedAmount: { currency: 'SEK', amount: '1.00' }, debtorAccount: {}, creditorAccount: {}, creditorName: 'ACME' },
  });
}
