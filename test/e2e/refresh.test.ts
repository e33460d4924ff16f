import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('tokens kept fresh (SANDBOX_ACCESS_TTL=2)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ accessTtlSeconds: 2 });
    await h.connect('seb', 'seb-r');
    await h.connect('sg', 'sg-r');
  });
  afterAll(() => h?.close());

  const sebAccounts = () => h.call('/seb/ais/accounts', { headers: { 'x-connection-id': 'seb-r', 'psu-ip-address': '203.0.113.7' } });
  const sgAccounts = () => h.call('/sg/aisp/accounts', { headers: { 'x-connection-id': 'sg-r' } });

  it('a call after the access token expired triggers one refresh and succeeds', async () => {
    await h.resetStats();
    await sleep(2500);
    const response = await sebAccounts();
    expect(response.status).toBe(200);
    const stats = await h.stats();
    expect(stats.banks.seb.tokenRequests.refresh_token).toBe(1);
    expect(stats.banks.seb.resourceCalls['401'] ?? 0).toBe(0);
  });

  it("SG rotates the refresh token: the old one is dead at the bank, and the gateway keeps working", async () => {
    const before = (await h.gateway.engine.store.get('sg-r'))!.tokens!.refreshToken!;
    await sleep(2500);
    expect((await sgAccounts()).status).toBe(200);
    const after = (await h.gateway.engine.store.get('sg-r'))!.tokens!.refreshToken!;
    expect(after).not.toBe(before);

    // Present the old refresh token to SG's token endpoint ourselves, with the gateway's own certificate.
    const sg = h.sandbox.banks.sg;
    const agent = new Agent({ connect: { ca: readFileSync(h.sandbox.caFile), cert: readFileSync(sg.mtls.certFile), key: readFileSync(sg.mtls.keyFile) } });
    const replay = await request(sg.authorizationServer.mtlsTokenEndpoint!, {
      dispatcher: agent,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: before, client_id: sg.client.clientId }).toString(),
    });
    expect(replay.statusCode).toBe(400);
    expect(((await replay.body.json()) as { error: string }).error).toBe('invalid_grant');
    await agent.close();

    await sleep(2500);
    expect((await sgAccounts()).status).toBe(200);
    expect((await h.gateway.engine.store.get('sg-r'))!.status).toBe('active');
  });

  it('50 concurrent calls on an expired token cause exactly one refresh at the authorization server', async () => {
    await sleep(2500);
    await h.resetStats();
    const responses = await Promise.all(Array.from({ length: 50 }, () => sgAccounts()));
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
    const stats = await h.stats();
    expect(stats.banks.sg.tokenRequests.refresh_token).toBe(1);
    expect(stats.banks.sg.resourceCalls['200']).toBe(50);
  });
});
