/**
 * Refreshes whose outcome is unknown (DESIGN §5): a lost response, a 5xx, a closed socket. Never a deleted
 * row; re-read, retry once, then `reconsent_required`, visible and reported. Real sandbox banks over real
 * sockets, token-endpoint faults armed on the sandbox control plane.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devConnection, revokeAtSg as revokeAtBank, startVaultHarness, sleep, type VaultHarness } from './vault-harness.js';

describe('unknown refresh outcomes, invalid_grant and 401s (2 s tokens)', () => {
  let h: VaultHarness;
  beforeAll(async () => {
    h = await startVaultHarness({ accessTtlSeconds: 2 });
    await Promise.all([h.connect('sg', 'sg-drop'), h.connect('sg', 'sg-close'), h.connect('sg', 'sg-revoked'), h.connect('sg', 'sg-401'), h.connect('sg', 'sg-post')]);
    await Promise.all([h.connect('seb', 'seb-503'), h.connect('seb', 'seb-503x2')]);
  });
  afterAll(() => h?.close());

  const sg = (id: string) => h.call('/sg/aisp/accounts', { headers: { 'x-connection-id': id } });
  const seb = (id: string) => h.call('/seb/ais/accounts', { headers: { 'x-connection-id': id, 'psu-ip-address': '203.0.113.7' } });
  const view = async (id: string) => (await (await h.call(`/connections/${id}`)).json()) as { status: string; reason?: { code: string; detail: string } };
  const metric = (outcome: string, bank: string) => h.gateway.metrics.value('bankgate_token_refresh_total', { bank, outcome }) ?? 0;

  const revokeAtSg = (token: string) => revokeAtBank(h.sandbox, token);

  it('the response of a rotating refresh is lost (drop-response): reconsent_required, visible, reported, row and tokens kept', async () => {
    await sleep(2300);
    await h.resetStats();
    await h.faults([{ bank: 'sg', target: 'token', action: 'drop-response', grantType: 'refresh_token' }]);
    const response = await sg('sg-drop');
    expect(response.status).toBe(409);
    const problem = (await response.json()) as { code: string; bank: string; connectionId: string };
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(problem).toMatchObject({ code: 'reconsent_required', bank: 'sg', connectionId: 'sg-drop' });
    // The bank did rotate (counted), then refused the retry with the old token (reuse detection).
    const stats = await h.stats();
    expect(stats.banks.sg.tokenRequests.refresh_token).toBe(2);
    expect(stats.banks.sg.tokenErrors).toEqual({ invalid_grant: 1 });
    const shown = await view('sg-drop');
    expect(shown.status).toBe('reconsent_required');
    expect(shown.reason?.detail).toMatch(/rotated/);
    const row = await h.gateway.engine.store.get(devConnection('sg-drop'));
    expect(row?.status).toBe('reconsent_required');
    expect(row?.tokens?.refreshToken).toBeTruthy();
    expect(metric('reconsent_required', 'sg')).toBe(1);
    expect(h.gateway.metrics.value('bankgate_token_refresh_unknown_outcome_total', { bank: 'sg' })).toBe(1);
    expect(h.logLines.some((l) => l.includes('token.refresh_outcome_unknown') && l.includes('sg-drop'))).toBe(true);
    expect(h.logLines.some((l) => l.includes('connection.reconsent_required') && l.includes('sg-drop'))).toBe(true);
    // A second call does not hammer the bank: the state is stored.
    expect((await sg('sg-drop')).status).toBe(409);
    expect((await h.stats()).banks.sg.tokenRequests.refresh_token).toBe(2);
  });

  it('the socket is closed before the bank did anything: the retry with the same token succeeds', async () => {
    await h.resetStats();
    await h.faults([{ bank: 'sg', target: 'token', action: 'close', grantType: 'refresh_token' }]);
    expect((await sg('sg-close')).status).toBe(200);
    expect((await h.stats()).banks.sg.tokenRequests.refresh_token).toBe(1);
    expect((await view('sg-close')).status).toBe('active');
    expect(metric('refreshed_after_retry', 'sg')).toBeGreaterThanOrEqual(1);
  });

  it('a 503 from a non-rotating bank: retried once, succeeds, connection active', async () => {
    await h.resetStats();
    await h.faults([{ bank: 'seb', target: 'token', action: 'status', status: 503, grantType: 'refresh_token' }]);
    expect((await seb('seb-503')).status).toBe(200);
    expect((await h.stats()).banks.seb.tokenRequests.refresh_token).toBe(1);
    expect((await view('seb-503')).status).toBe('active');
  });

  it('two 503s in a row: marked reconsent_required (not deleted), as the design asks', async () => {
    await h.faults([{ bank: 'seb', target: 'token', action: 'status', status: 503, grantType: 'refresh_token', times: 2 }]);
    const response = await seb('seb-503x2');
    expect(response.status).toBe(409);
    expect(((await response.json()) as { code: string }).code).toBe('reconsent_required');
    const shown = await view('seb-503x2');
    expect(shown.status).toBe('reconsent_required');
    expect(shown.reason?.detail).toMatch(/HTTP 503, then HTTP 503/);
  });

  it('invalid_grant (the refresh token was revoked at the bank): reconsent_required at once, no retry', async () => {
    await h.resetStats();
    await revokeAtSg((await h.gateway.engine.store.get(devConnection('sg-revoked')))!.tokens!.refreshToken!);
    await sleep(300);
    const response = await sg('sg-revoked');
    expect(response.status).toBe(409);
    const stats = await h.stats();
    expect(stats.banks.sg.tokenRequests.refresh_token).toBe(1);
    expect(stats.banks.sg.tokenErrors).toEqual({ invalid_grant: 1 });
    expect((await view('sg-revoked')).reason?.detail).toMatch(/invalid_grant/);
  });

  it('the bank says 401 to a fresh-looking token: one refresh, one retry of the GET, success', async () => {
    await sg('sg-401'); // fresh token now
    const before = (await h.gateway.engine.store.get(devConnection('sg-401')))!.tokens!.accessToken;
    // The resource server refuses the next call with 401 (as after a revocation by the bank's back office).
    await h.faults([{ bank: 'sg', target: 'resource', action: 'status', status: 401, method: 'GET' }]);
    await h.resetStats();
    const response = await sg('sg-401');
    expect(response.status).toBe(200);
    const stats = await h.stats();
    expect(stats.banks.sg.tokenRequests.refresh_token).toBe(1);
    expect(stats.banks.sg.resourceCalls['200']).toBe(1);
    expect((await h.gateway.engine.store.get(devConnection('sg-401')))!.tokens!.accessToken).not.toBe(before);
    expect(h.gateway.metrics.value('bankgate_token_rejected_by_bank_total', { bank: 'sg', kind: 'psu' })).toBe(1);
  });

  it('a 401 on a non-idempotent call: refreshed for the next call, not retried; a second 401 never loops', async () => {
    const connection = (await h.gateway.engine.store.get(devConnection('sg-post')))!;
    const sent: string[] = [];
    const unauthorized = { status: 401, headers: {}, body: new Uint8Array() };
    const response = await h.gateway.engine.callWithPsuToken(connection, false, async (token) => {
      sent.push(token);
      return unauthorized;
    });
    expect(response.status).toBe(401);
    expect(sent).toHaveLength(1);
    await sleep(300);
    const refreshed = (await h.gateway.engine.store.get(devConnection('sg-post')))!;
    expect(refreshed.tokens!.accessToken).not.toBe(sent[0]);

    const again: string[] = [];
    const second = await h.gateway.engine.callWithPsuToken(refreshed, true, async (token) => {
      again.push(token);
      return unauthorized;
    });
    expect(second.status).toBe(401);
    expect(again).toHaveLength(2);
    expect(again[0]).not.toBe(again[1]);
  });
});
