import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJsonLogger } from '../../plugin/adapter/node/log.js';
import { devConnection, problemOf, startHarness, type Harness } from './harness.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('tokens kept fresh (SANDBOX_ACCESS_TTL=2)', () => {
  let h: Harness;
  const logLines: string[] = [];
  const tokensSeen = new Set<string>();
  beforeAll(async () => {
    h = await startHarness({ accessTtlSeconds: 2, log: createJsonLogger((line) => logLines.push(line)) });
    await h.connect('seb', 'seb-r');
    await h.connect('sg', 'sg-r');
  });
  afterAll(() => h?.close());

  const sebAccounts = () => h.call('/seb/ais/accounts', { headers: { 'x-connection-id': 'seb-r', 'psu-ip-address': '203.0.113.7' } });
  const sgAccounts = (connection = 'sg-r') => h.call('/sg/aisp/accounts', { headers: { 'x-connection-id': connection } });
  const refreshTokenOf = async (id: string) => {
    const tokens = (await h.gateway.engine.store.get(devConnection(id)))!.tokens!;
    tokensSeen.add(tokens.accessToken).add(tokens.refreshToken!);
    return tokens.refreshToken!;
  };

  /** Presents a refresh token to SG's mTLS token endpoint directly, with the gateway's own certificate. */
  async function presentToSg(refreshToken: string) {
    const sg = h.sandbox.banks.sg;
    const agent = new Agent({ connect: { ca: readFileSync(h.sandbox.caFile), cert: readFileSync(sg.mtls.certFile), key: readFileSync(sg.mtls.keyFile) } });
    try {
      const response = await request(sg.authorizationServer.mtlsTokenEndpoint!, {
        dispatcher: agent,
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: sg.client.clientId }).toString(),
      });
      return { status: response.statusCode, body: (await response.body.json()) as { error?: string } };
    } finally {
      await agent.close();
    }
  }

  it('a call after the access token expired triggers one refresh and succeeds', async () => {
    await h.resetStats();
    await sleep(2500);
    const response = await sebAccounts();
    expect(response.status).toBe(200);
    const stats = await h.stats();
    expect(stats.banks.seb.tokenRequests.refresh_token).toBe(1);
    expect(stats.banks.seb.resourceCalls['401'] ?? 0).toBe(0);
  });

  it('SG rotates the refresh token on every use; the gateway always uses the newest and keeps working', async () => {
    await h.resetStats();
    const seen = [await refreshTokenOf('sg-r')];
    for (let round = 0; round < 2; round++) {
      await sleep(2500);
      expect((await sgAccounts()).status).toBe(200);
      seen.push(await refreshTokenOf('sg-r'));
    }
    expect(new Set(seen).size).toBe(3);
    const stats = await h.stats();
    expect(stats.banks.sg.tokenRequests.refresh_token).toBe(2);
    expect(stats.banks.sg.tokenErrors).toEqual({});
    expect((await h.gateway.engine.store.get(devConnection('sg-r')))!.status).toBe('active');
  });

  it("SG's old refresh token is rejected after rotation; replaying it makes SG revoke the grant, which the gateway reports as reconsent_required", async () => {
    const before = await refreshTokenOf('sg-r');
    await sleep(2500);
    expect((await sgAccounts()).status).toBe(200);
    expect(await refreshTokenOf('sg-r')).not.toBe(before);

    const replay = await presentToSg(before);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');

    // oidc-provider, like OAuth 2.1 reuse detection asks, revokes the whole grant on a replay. The gateway's
    // next refresh then gets invalid_grant: the connection is marked, kept, and says so; nothing crashes.
    await sleep(2500);
    const after = await sgAccounts();
    expect(after.status).toBe(409);
    const problem = await problemOf(after);
    expect(problem.code).toBe('reconsent_required');
    expect(problem.bank).toBe('sg');
    const status = (await (await h.call('/connections/sg-r')).json()) as { status: string; reason: { code: string } };
    expect(status.status).toBe('reconsent_required');
  });

  it('a refresh logs the request id of the call that needed it (no AsyncLocalStorage: passed explicitly)', async () => {
    await sleep(2500); // seb-r's access token has expired: this call waits for its refresh
    const response = await h.call('/seb/ais/accounts', { headers: { 'x-connection-id': 'seb-r', 'psu-ip-address': '203.0.113.7', 'x-request-id': 'probe-refresh-1' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('probe-refresh-1');
    const refreshed = logLines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.event === 'token.refreshed' && line.connectionId === 'seb-r');
    expect(refreshed.at(-1)?.requestId).toBe('probe-refresh-1');
    // The consent that created the connection logged the callback request's own id.
    const completed = logLines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.event === 'consent.completed' && line.connectionId === 'seb-r');
    expect(completed?.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('no access or refresh token ever appears in a log line', async () => {
    for (const id of ['seb-r', 'sg-r']) {
      const tokens = (await h.gateway.engine.store.get(devConnection(id)))?.tokens;
      if (tokens) tokensSeen.add(tokens.accessToken).add(tokens.refreshToken!);
    }
    expect(logLines.some((line) => line.includes('token.refreshed'))).toBe(true);
    expect(tokensSeen.size).toBeGreaterThan(4);
    for (const token of tokensSeen) expect(logLines.filter((line) => line.includes(token))).toEqual([]);
    expect(logLines.join('\n')).not.toMatch(/bearer\s+[A-Za-z0-9_-]{10,}/i);
  });
});

describe('a burst on an expired token (hour-long tokens, the gateway clock moved past their expiry)', () => {
  // Not 2 s tokens and a sleep: a burst that outlives a fresh 2 s token's life rightly refreshes again, so
  // the count would depend on the machine's load. Here the fresh token lives an hour against the burst.
  let h: Harness;
  let offsetMs = 0;
  beforeAll(async () => {
    h = await startHarness({ accessTtlSeconds: 3600, gateway: { now: () => Date.now() + offsetMs } });
    await h.connect('sg', 'sg-storm');
  });
  afterAll(() => h?.close());

  it('50 concurrent calls on an expired token cause exactly one refresh at the authorization server', async () => {
    offsetMs = 3601_000;
    await h.resetStats();
    const responses = await Promise.all(Array.from({ length: 50 }, () => h.call('/sg/aisp/accounts', { headers: { 'x-connection-id': 'sg-storm' } })));
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
    const stats = await h.stats();
    expect(stats.banks.sg.tokenRequests.refresh_token).toBe(1);
    expect(stats.banks.sg.resourceCalls['200']).toBe(50);
    // Expired once more: one more refresh, not more.
    offsetMs = 2 * 3601_000;
    expect((await Promise.all(Array.from({ length: 50 }, () => h.call('/sg/aisp/accounts', { headers: { 'x-connection-id': 'sg-storm' } })))).every((r) => r.status === 200)).toBe(true);
    expect((await h.stats()).banks.sg.tokenRequests.refresh_token).toBe(2);
  });
});
