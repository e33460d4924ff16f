/**
 * Issue 15, finding 3: two deliveries of the same consent callback (a browser's double submit, a proxy's
 * retry). Only one may exchange the code: a second exchange is refused by the bank, which then revokes the
 * grant (RFC 6749 §4.1.2). The callback claims its `state` atomically; the other delivery is answered from
 * the first one's outcome without contacting the bank. Real sandbox banks over real sockets.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consentHeadlessly } from '../../sandbox/headless-consent.js';
import { startVaultHarness, type VaultHarness } from './vault-harness.js';

describe('a consent callback delivered twice (finding 3)', () => {
  let h: VaultHarness;
  beforeAll(async () => {
    h = await startVaultHarness();
  });
  afterAll(() => h?.close());

  async function callbackFor(bank: 'sg' | 'seb', connectionId: string): Promise<string> {
    const created = await h.call('/connections', { method: 'POST', body: { bank, connectionId } });
    expect(created.status).toBe(201);
    const { authorizeUrl } = (await created.json()) as { authorizeUrl: string };
    const { callbackUrl } = await consentHeadlessly(authorizeUrl, { ca: readFileSync(h.sandbox.caFile, 'utf8'), psuId: h.sandbox.banks[bank].psuIds[0]! });
    return String(callbackUrl);
  }

  it.each(['sg', 'seb'] as const)('%s: two concurrent deliveries both answer active, the code is exchanged once, and the connection works', async (bank) => {
    const callbackUrl = await callbackFor(bank, `${bank}-twice`);
    await h.resetStats();
    const answers = await Promise.all([fetch(callbackUrl), fetch(callbackUrl)]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    for (const answer of answers) expect(await answer.json()).toMatchObject({ connectionId: `${bank}-twice`, status: 'active' });
    const stats = await h.stats();
    expect(stats.banks[bank].tokenRequests.authorization_code).toBe(1);
    expect(stats.banks[bank].tokenErrors).toEqual({});
    // A late third delivery: the stored outcome again, still without the bank.
    const late = await fetch(callbackUrl);
    expect(late.status).toBe(200);
    expect((await h.stats()).banks[bank].tokenRequests.authorization_code).toBe(1);
    const call = bank === 'sg' ? h.call('/sg/aisp/accounts', { headers: { 'x-connection-id': 'sg-twice' } }) : h.call('/seb/ais/accounts', { headers: { 'x-connection-id': 'seb-twice', 'psu-ip-address': '203.0.113.7' } });
    expect((await call).status).toBe(200);
  });

  it('a failed exchange is answered the same way to a second delivery, without the bank', async () => {
    const callbackUrl = await callbackFor('sg', 'sg-failed-once');
    await h.faults([{ bank: 'sg', target: 'token', action: 'status', status: 400, grantType: 'authorization_code' }]);
    await h.resetStats();
    const first = await fetch(callbackUrl);
    const second = await fetch(callbackUrl);
    expect(first.status).toBe(second.status);
    expect(first.status).toBeGreaterThanOrEqual(400);
    const [a, b] = (await Promise.all([first.json(), second.json()])) as Array<{ code: string }>;
    expect(a!.code).toBe('consent_failed');
    expect(b!.code).toBe('consent_failed');
    // The fault answered the one exchange without counting it; a second exchange would have reached the
    // bank (the rule applies once) and been counted.
    expect((await h.stats()).banks.sg.tokenRequests.authorization_code).toBe(0);
  });
});
