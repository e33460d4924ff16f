import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatewayClient } from '../../plugin/client/create-gateway-client.js';
import { DEV_KEY, PSU_IP, startHarness, type Harness } from '../e2e/harness.js';

describe('createGatewayClient: the typed client internal services use', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    await h.connect('seb', 'client-seb');
  });
  afterAll(() => h?.close());

  it('calls a bank operation through the gateway and gets typed data', async () => {
    const gateway = createGatewayClient({ baseUrl: h.url, credential: async () => DEV_KEY });
    const { data, error, response } = await gateway.GET('/seb/ais/accounts', { params: { header: { 'X-Connection-Id': 'client-seb', 'PSU-IP-Address': PSU_IP } } });
    expect(error).toBeUndefined();
    expect(response.status).toBe(200);
    expect(data!.accounts.length).toBeGreaterThan(0);
    const balances = await gateway.GET('/seb/ais/accounts/{account-id}/balances', { params: { header: { 'X-Connection-Id': 'client-seb', 'PSU-IP-Address': PSU_IP }, path: { 'account-id': data!.accounts[0]!.resourceId } } });
    expect(balances.data!.balances.length).toBeGreaterThan(0);
  });

  it('returns the problem document as error, not as an exception', async () => {
    const gateway = createGatewayClient({ baseUrl: h.url, credential: DEV_KEY });
    const { data, error, response } = await gateway.GET('/seb/ais/accounts', { params: { header: { 'X-Connection-Id': 'missing', 'PSU-IP-Address': PSU_IP } } });
    expect(data).toBeUndefined();
    expect(response.status).toBe(404);
    expect(error).toMatchObject({ code: 'connection_not_found' });
  });
});
