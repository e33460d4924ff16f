import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountsApi, Configuration, ResponseError } from '../../generated/seb/ais/client/index.js';
import { AISPApi, Configuration as SgConfiguration } from '../../generated/sg/aisp/client/index.js';
import { DEV_KEY, startHarness, type Harness } from './harness.js';

/**
 * The typescript-fetch SDKs generated from the bank specs are typed clients of the uniform surface: the
 * spec's `Authorization` header parameter carries the internal key, and the gateway adds the bank's token,
 * its own X-Request-ID and the signature. Over HTTP, and in process through `app.fetch`.
 */
describe('generated SDKs as typed clients of the gateway', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    await h.connect('seb', 'sdk-seb');
    await h.connect('sg', 'sdk-sg');
  });
  afterAll(() => h?.close());

  it('SEB AccountsApi over HTTP returns typed accounts and balances', async () => {
    const api = new AccountsApi(new Configuration({ basePath: `${h.url}/seb/ais`, headers: { 'X-Connection-Id': 'sdk-seb' } }));
    const common = { authorization: `Bearer ${DEV_KEY}`, xRequestID: randomUUID(), pSUIPAddress: '203.0.113.7' };
    const list = await api.getAccountList(common);
    expect(list.accounts.length).toBeGreaterThan(0);
    const balances = await api.getBalances({ ...common, accountId: list.accounts[0]!.resourceId });
    expect(balances.balances[0]!.balanceAmount.currency).toMatch(/^[A-Z]{3}$/);
  });

  it('SG AISPApi in process, through app.fetch, with no socket to the gateway', async () => {
    const api = new AISPApi(
      new SgConfiguration({
        basePath: 'http://gateway.internal/sg/aisp',
        headers: { 'X-Connection-Id': 'sdk-sg' },
        fetchApi: (input, init) => Promise.resolve(h.gateway.app.fetch(new Request(input as string, init))),
      }),
    );
    const accounts = await api.accountsGet({ authorization: `Bearer ${DEV_KEY}`, xRequestID: randomUUID(), signature: 'set by the gateway' });
    expect(accounts.accounts.length).toBeGreaterThan(0);
  });

  it("a gateway problem surfaces as the SDK's ResponseError with the problem body", async () => {
    const api = new AccountsApi(new Configuration({ basePath: `${h.url}/seb/ais`, headers: { 'X-Connection-Id': 'no-such-connection' } }));
    const error = await api.getAccountList({ authorization: `Bearer ${DEV_KEY}`, xRequestID: randomUUID(), pSUIPAddress: '203.0.113.7' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResponseError);
    const problem = (await (error as ResponseError).response.json()) as { code: string };
    expect(problem.code).toBe('connection_not_found');
  });
});
