/**
 * Issue 15, the consent's own token set: the PSU has authorised at the SG-like sandbox and the bank's redirect
 * reaches the gateway's callback; the bank delays the authorization code exchange by 3 s and Redis is killed
 * (`kill -9`) one second into it, back eight seconds later from its append-only file. The code works once: a
 * completed consent the store cannot take must not cost the PSU a second SCA. With the local journal the callback
 * answers the consent active, the connection reaches Redis when it is back, and the next call is 200. Without a
 * journal (`store.journal: none`) the same faults end the consent.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { consentHeadlessly } from '../../sandbox/headless-consent.js';
import { startJournalScenario, type JournalScenario } from '../vault/journal-scenario.js';
import { sleep } from '../vault/vault-harness.js';

const ID = 'sg-consent-journal';

describe('a consent completed while Redis is away (killed during the code exchange)', () => {
  let run: JournalScenario | undefined;
  afterEach(() => run?.close());

  async function scenario(journal: 'file' | 'none') {
    run = await startJournalScenario(journal);
    const { h } = run;
    const created = await h.call('/connections', { method: 'POST', body: { bank: 'sg', connectionId: ID } });
    expect(created.status).toBe(201);
    const { authorizeUrl } = (await created.json()) as { authorizeUrl: string };
    const { callbackUrl } = await consentHeadlessly(authorizeUrl, { ca: readFileSync(h.sandbox.caFile, 'utf8'), psuId: h.sandbox.banks.sg.psuIds[0]! });

    await h.faults([{ bank: 'sg', target: 'token', action: 'delay', delayMs: 3000, grantType: 'authorization_code' }]);
    const callback = fetch(callbackUrl);
    await sleep(1000);
    await run.killRedis(); // kill -9, one second into the code exchange
    const answer = await callback;
    const body = (await answer.json()) as { status?: string; code?: string; detail?: string };
    const journaled = run.journaled();
    await sleep(8000 - 1000);
    await run.restartRedis();
    const accounts = () => h.call('/sg/aisp/accounts', { headers: { 'x-connection-id': ID } });
    const view = async () => (await (await h.call(`/connections/${ID}`)).json()) as { status: string; code?: string };
    return { answer, body, journaled, accounts, view };
  }

  async function eventually(read: () => Promise<number>, want: number, ms: number): Promise<number> {
    const deadline = Date.now() + ms;
    let status = 0;
    while (Date.now() < deadline && (status = await read()) !== want) await sleep(200);
    return status;
  }

  it('with the journal: the callback answers active, the connection reaches Redis when it is back, and its first call is 200', async () => {
    const { answer, body, journaled, accounts, view } = await scenario('file');
    expect(answer.status, body.detail).toBe(200);
    expect(body.status).toBe('active');
    expect(journaled).toHaveLength(1);
    expect(run!.h.logLines.some((line) => line.includes('"consent.journaled"'))).toBe(true);

    expect(await eventually(async () => (await accounts()).status, 200, 8000)).toBe(200);
    expect(run!.h.logLines.some((line) => line.includes('"token.journal_replayed"'))).toBe(true);
    expect((await view()).status).toBe('active');
    // One code exchange at the bank, never a second: the PSU did not consent again.
    expect((await run!.h.stats()).banks.sg.tokenRequests.authorization_code).toBe(1);
  }, 60_000);

  it('without a journal (store.journal none): the same faults cost the PSU the consent (what the journal prevents)', async () => {
    const { answer, body, journaled, view } = await scenario('none');
    expect(answer.status).toBe(503);
    expect(body.code).toBe('store_unavailable');
    expect(body.detail).toContain('start again with POST /connections');
    expect(journaled).toHaveLength(0);
    // Once Redis answers again, the connection is still the consent in progress it was: the code is spent.
    let seen = await view();
    for (const deadline = Date.now() + 8000; seen.code === 'store_unavailable' && Date.now() < deadline; seen = await view()) await sleep(200);
    expect(seen.code).toBeUndefined();
    expect(seen.status).not.toBe('active');
  }, 60_000);
});
