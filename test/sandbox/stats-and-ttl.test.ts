import * as oauth from 'oauth4webapi';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StatsSnapshot } from '../../sandbox/index.js';
import {
  sebAuthorizationCode,
  sebAuthorizationServer,
  sebHeaders,
  sgAuthorizationCode,
  sgAuthorizationServer,
  sgClient,
  sgSignedHeaders,
  startTestSandbox,
  type TestSandbox,
} from './helpers.js';

async function stats(sandbox: TestSandbox): Promise<StatsSnapshot> {
  return (await (await fetch(sandbox.file.statsUrl)).json()) as StatsSnapshot;
}

describe('sandbox stats', () => {
  let sandbox: TestSandbox;

  beforeAll(async () => {
    sandbox = await startTestSandbox();
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  it('counts token requests by grant type, token errors and resource calls by status; reset zeroes them', async () => {
    const seb = await sebAuthorizationCode(sandbox);
    const as = sebAuthorizationServer(sandbox.file);
    const client = { client_id: sandbox.file.banks.seb.client.clientId };
    const options = { [oauth.customFetch]: sandbox.customFetch(sandbox.agents.none) };
    await oauth.refreshTokenGrantRequest(as, client, oauth.ClientSecretPost(sandbox.file.banks.seb.client.clientSecret!), seb.tokens.refresh_token!, options);
    const bad = await oauth.refreshTokenGrantRequest(as, client, oauth.ClientSecretPost('wrong'), seb.tokens.refresh_token!, options);
    expect(bad.status).toBe(401);
    const ais = sandbox.file.banks.seb.apis.ais!;
    await sandbox.fetch(sandbox.agents.seb, `${ais}/accounts`, { headers: sebHeaders(seb.tokens.access_token) });
    await sandbox.fetch(sandbox.agents.seb, `${ais}/accounts`, { headers: sebHeaders('expired-or-unknown') });

    const sg = await sgAuthorizationServer(sandbox);
    await oauth.clientCredentialsGrantRequest(sg, sgClient(sandbox.file), oauth.TlsClientAuth(), { scope: 'pisp' }, {
      [oauth.customFetch]: sandbox.customFetch(sandbox.agents.sg),
    });

    const counted = await stats(sandbox);
    expect(counted.banks.seb).toEqual({
      tokenRequests: { authorization_code: 1, refresh_token: 2, client_credentials: 0 },
      tokenErrors: { invalid_client: 1 },
      resourceCalls: { '200': 1, '401': 1 },
      doubleRefreshes: 0,
    });
    expect(counted.banks.sg.tokenRequests).toEqual({ authorization_code: 0, refresh_token: 0, client_credentials: 1 });

    const reset = await fetch(sandbox.file.resetUrl, { method: 'POST' });
    expect(reset.status).toBe(200);
    const zero = { tokenRequests: { authorization_code: 0, refresh_token: 0, client_credentials: 0 }, tokenErrors: {}, resourceCalls: {}, doubleRefreshes: 0 };
    expect(await stats(sandbox)).toEqual({ banks: { seb: zero, sg: zero, ukob: zero, bg: zero } });
    expect(await (await fetch(`${sandbox.file.controlUrl}/requests`)).json()).toEqual([]);
  });
});

describe('SANDBOX_ACCESS_TTL', () => {
  let sandbox: TestSandbox;
  const previous = process.env.SANDBOX_ACCESS_TTL;

  beforeAll(async () => {
    process.env.SANDBOX_ACCESS_TTL = '2';
    sandbox = await startTestSandbox();
  });
  afterEach(() => {
    if (previous === undefined) delete process.env.SANDBOX_ACCESS_TTL;
    else process.env.SANDBOX_ACCESS_TTL = previous;
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  it('shortens every access token; an expired one gets 401', async () => {
    const [seb, sg] = await Promise.all([sebAuthorizationCode(sandbox), sgAuthorizationCode(sandbox)]);
    expect(seb.tokens.expires_in).toBe(2);
    expect(sg.tokens.expires_in).toBe(2);
    const as = await sgAuthorizationServer(sandbox);
    const client = sgClient(sandbox.file);
    const cc = await oauth.processClientCredentialsResponse(
      as,
      client,
      await oauth.clientCredentialsGrantRequest(as, client, oauth.TlsClientAuth(), { scope: 'pisp' }, {
        [oauth.customFetch]: sandbox.customFetch(sandbox.agents.sg),
      }),
    );
    expect(cc.expires_in).toBe(2);

    const ais = `${sandbox.file.banks.seb.apis.ais}/accounts`;
    const aisp = `${sandbox.file.banks.sg.apis.aisp}/accounts`;
    const callSeb = () => sandbox.fetch(sandbox.agents.seb, ais, { headers: sebHeaders(seb.tokens.access_token) });
    const callSg = async () => sandbox.fetch(sandbox.agents.sg, aisp, { headers: await sgSignedHeaders(sandbox.file, 'GET', aisp, sg.tokens.access_token) });
    expect((await callSeb()).status).toBe(200);
    expect((await callSg()).status).toBe(200);

    await sleep(3000);
    const expiredSeb = await callSeb();
    expect(expiredSeb.status).toBe(401);
    expect(((await expiredSeb.json()) as { tppMessages: Array<{ code: string }> }).tppMessages[0]!.code).toBe('TOKEN_INVALID');
    const expiredSg = await callSg();
    expect(expiredSg.status).toBe(401);
    expect(((await expiredSg.json()) as { error: string }).error).toBe('invalid_token');
  });
});
