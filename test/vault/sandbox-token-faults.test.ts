/**
 * The sandbox's token-endpoint faults, straight against the SG-like (rotating) and SEB-like authorization
 * servers, to show each fault happens where a real one does: `drop-response` after the rotation, `status`
 * and `close` before any work, `delay` that is skipped when the client went away.
 */
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sebAuthorizationCode, sebAuthorizationServer, sgAuthorizationCode, sgAuthorizationServer, sgClient, startTestSandbox, type TestSandbox } from '../sandbox/helpers.js';

describe('token-endpoint faults in the sandbox authorization servers', () => {
  let sandbox: TestSandbox;
  beforeAll(async () => {
    sandbox = await startTestSandbox();
  });
  afterAll(() => sandbox?.close());

  const faults = async (rules: unknown[]) => {
    const response = await fetch(`${sandbox.file.controlUrl}/faults`, { method: 'POST', body: JSON.stringify(rules) });
    expect(response.status).toBe(200);
  };
  const stats = async () => ((await (await fetch(sandbox.file.statsUrl)).json()) as { banks: Record<string, { tokenRequests: Record<string, number>; tokenErrors: Record<string, number>; doubleRefreshes: number }> }).banks;
  const reset = () => fetch(sandbox.file.resetUrl, { method: 'POST' });
  async function sgRefresh(refreshToken: string, signal?: AbortSignal) {
    const as = await sgAuthorizationServer(sandbox);
    const client = sgClient(sandbox.file);
    const response = await oauth.refreshTokenGrantRequest(as, client, oauth.TlsClientAuth(), refreshToken, { [oauth.customFetch]: sandbox.customFetch(sandbox.agents.sg), signal });
    return { response, process: () => oauth.processRefreshTokenResponse(as, client, response) };
  }

  it('SG rotating refresh + drop-response: the grant completes (token rotated, counted), the answer never comes, the old token is dead', async () => {
    const { tokens } = await sgAuthorizationCode(sandbox);
    await reset();
    await faults([{ bank: 'sg', target: 'token', action: 'drop-response', grantType: 'refresh_token' }]);
    await expect(sgRefresh(tokens.refresh_token!)).rejects.toThrow();
    expect((await stats()).sg.tokenRequests.refresh_token).toBe(1);
    expect((await stats()).sg.tokenErrors).toEqual({});
    const { process } = await sgRefresh(tokens.refresh_token!);
    await expect(process()).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('SG counts a double refresh: a refresh token presented again after it was rotated (and only that)', async () => {
    const { tokens } = await sgAuthorizationCode(sandbox);
    await reset();
    const first = await (await sgRefresh(tokens.refresh_token!)).process();
    const second = await (await sgRefresh(first.refresh_token!)).process();
    expect((await stats()).sg.doubleRefreshes).toBe(0);
    // The first refresh token again (rotated twice ago), then an unknown one: only the former is a double refresh.
    await expect((await sgRefresh(tokens.refresh_token!)).process()).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect((await sgRefresh('never-issued')).process()).rejects.toMatchObject({ error: 'invalid_grant' });
    const counted = (await stats()).sg;
    expect(counted.doubleRefreshes).toBe(1);
    expect(counted.tokenErrors.invalid_grant).toBe(2);
    // Presenting it revoked the grant (RFC 6819 §5.2.2.3): the latest refresh token is dead too, and that is no double refresh.
    await expect((await sgRefresh(second.refresh_token!)).process()).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await stats()).sg.doubleRefreshes).toBe(1);
    await reset();
    expect((await stats()).sg.doubleRefreshes).toBe(0);
  });

  it('status 503 answers without doing the work: the same refresh token still works afterwards', async () => {
    const { tokens } = await sgAuthorizationCode(sandbox);
    await reset();
    await faults([{ bank: 'sg', target: 'token', action: 'status', status: 503, grantType: 'refresh_token' }]);
    expect((await sgRefresh(tokens.refresh_token!)).response.status).toBe(503);
    expect((await stats()).sg.tokenRequests.refresh_token).toBe(0);
    const refreshed = await (await sgRefresh(tokens.refresh_token!)).process();
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
  });

  it('close destroys the socket before anything happens; rules match their grant type only', async () => {
    const { tokens } = await sgAuthorizationCode(sandbox);
    await faults([{ bank: 'sg', target: 'token', action: 'close', grantType: 'refresh_token' }]);
    // A client_credentials request does not consume the refresh_token rule.
    const as = await sgAuthorizationServer(sandbox);
    const cc = await oauth.clientCredentialsGrantRequest(as, sgClient(sandbox.file), oauth.TlsClientAuth(), { scope: 'pisp' }, { [oauth.customFetch]: sandbox.customFetch(sandbox.agents.sg) });
    expect(cc.status).toBe(200);
    await expect(sgRefresh(tokens.refresh_token!)).rejects.toThrow();
    expect((await (await sgRefresh(tokens.refresh_token!)).process()).access_token).toBeTruthy();
  });

  it('delay answers late; a delayed request whose client gave up is never processed (nothing rotated)', async () => {
    const { tokens } = await sgAuthorizationCode(sandbox);
    await faults([{ bank: 'sg', target: 'token', action: 'delay', delayMs: 5000, grantType: 'refresh_token' }]);
    await reset();
    await expect(sgRefresh(tokens.refresh_token!, AbortSignal.timeout(300))).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await stats()).sg.tokenRequests.refresh_token).toBe(0);
    await faults([{ bank: 'sg', target: 'token', action: 'delay', delayMs: 400, grantType: 'refresh_token' }]);
    const started = Date.now();
    expect((await (await sgRefresh(tokens.refresh_token!)).process()).access_token).toBeTruthy();
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });

  it('SEB (not rotating): after a dropped response the same refresh token still works', async () => {
    const { tokens } = await sebAuthorizationCode(sandbox);
    const as = sebAuthorizationServer(sandbox.file);
    const client = { client_id: sandbox.file.banks.seb.client.clientId };
    const auth = oauth.ClientSecretPost(sandbox.file.banks.seb.client.clientSecret!);
    const options = { [oauth.customFetch]: sandbox.customFetch(sandbox.agents.seb) };
    await faults([{ bank: 'seb', target: 'token', action: 'drop-response', grantType: 'refresh_token' }]);
    await expect(oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token!, options)).rejects.toThrow();
    const again = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token!, options));
    expect(again.access_token).toBeTruthy();
  });

  it('SG refresh ledger: each token answer with its fate (written, dropped by a fault), each refusal with its kind (double refresh, revoked family)', async () => {
    type Ledger = import('../../sandbox/sg/refresh-ledger.js').LedgerSnapshot;
    const ledger = async () => (await (await fetch(`${sandbox.file.controlUrl}/refresh-ledger`)).json()) as Ledger;
    const { tokenHash } = await import('../../sandbox/sg/refresh-ledger.js');
    const { tokens } = await sgAuthorizationCode(sandbox);
    const first = await (await sgRefresh(tokens.refresh_token!)).process();
    await faults([{ bank: 'sg', target: 'token', action: 'drop-response', grantType: 'refresh_token' }]);
    await expect(sgRefresh(first.refresh_token!)).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const after = await ledger();
    const code = after.issuances.find((i) => i.issuedHash === tokenHash(tokens.refresh_token!))!;
    expect(code).toMatchObject({ grantType: 'authorization_code', fate: 'written' });
    const written = after.issuances.find((i) => i.usedHash === tokenHash(tokens.refresh_token!))!;
    expect(written).toMatchObject({ grantType: 'refresh_token', issuedHash: tokenHash(first.refresh_token!), family: code.family, fate: 'written' });
    expect(written.fateAt).toBeGreaterThanOrEqual(written.at);
    const dropped = after.issuances.find((i) => i.usedHash === tokenHash(first.refresh_token!))!;
    expect(dropped).toMatchObject({ fate: 'dropped', family: code.family });

    // The dropped answer's client retries with the token the bank rotated: a double refresh, which revokes the family.
    await expect((await sgRefresh(first.refresh_token!)).process()).rejects.toMatchObject({ error: 'invalid_grant' });
    const refusals = (await ledger()).refusals.filter((r) => r.family === code.family);
    expect(refusals).toEqual([expect.objectContaining({ presentedHash: tokenHash(first.refresh_token!), kind: 'double_refresh', error: 'invalid_grant' })]);
    expect((await ledger()).revokedFamilies[String(code.family)]).toBe(refusals[0]!.at);
  });

  it('invalid-grant refuses a refresh without touching the grant: the same refresh token works afterwards', async () => {
    const { tokens } = await sgAuthorizationCode(sandbox);
    await faults([{ bank: 'sg', target: 'token', action: 'invalid-grant', delayMs: 200, grantType: 'refresh_token' }]);
    const started = Date.now();
    await expect((await sgRefresh(tokens.refresh_token!)).process()).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    expect((await (await sgRefresh(tokens.refresh_token!)).process()).access_token).toBeTruthy();
  });
});
