/**
 * Issue 15, finding 1, over real sockets: one gateway on Redis in front of the SG-like sandbox (refresh
 * tokens rotated on every use, a rotated one presented again revokes the grant). The sandbox delays a
 * refresh by 3 s; Redis is killed (`kill -9`) one second into it and restarted eight seconds later from its
 * append-only file. With the local journal the rotated token set is never only in memory: the call that
 * needed the refresh answers 200, the set is written into Redis once it is back, the connection stays
 * `active`, and the next refresh (with the journaled refresh token) succeeds. Without a journal
 * (`store.journal: none`, what a runtime without local storage has) the same faults lose the consent.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startJournalScenario, type JournalScenario } from './journal-scenario.js';
import { sleep } from './vault-harness.js';

const ACCESS_TTL_SECONDS = 4;
const ID = 'sg-journal';

describe('a refresh whose result Redis cannot take (Redis killed during it)', () => {
  let run: JournalScenario | undefined;
  afterEach(() => run?.close());

  async function scenario(journal: 'file' | 'none') {
    run = await startJournalScenario(journal, { accessTtlSeconds: ACCESS_TTL_SECONDS });
    const { h } = run;
    await h.connect('sg', ID);
    const accounts = () => h.call('/sg/aisp/accounts', { headers: { 'x-connection-id': ID } });
    const view = async () => (await (await h.call(`/connections/${ID}`)).json()) as { status: string; reason?: { detail: string } };

    // The access token has expired: the next call must wait for a refresh, which the bank delays by 3 s.
    await sleep(ACCESS_TTL_SECONDS * 1000 + 300);
    await h.resetStats();
    await h.faults([{ bank: 'sg', target: 'token', action: 'delay', delayMs: 3000, grantType: 'refresh_token' }]);
    const during = accounts();
    await sleep(1000);
    await run.killRedis(); // kill -9, one second into the refresh
    const duringStatus = (await during).status;
    const journaled = run.journaled();
    await sleep(8000 - 1000);
    await run.restartRedis();
    return { accounts, view, duringStatus, journaled };
  }

  async function eventually200(accounts: () => Promise<Response>, ms: number): Promise<number> {
    const deadline = Date.now() + ms;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await accounts()).status;
      if (status === 200) return status;
      await sleep(200);
    }
    return status;
  }

  it('with the journal: the call answers 200, the set reaches Redis when it is back, the connection stays active and refreshes again', async () => {
    const { accounts, view, duringStatus, journaled } = await scenario('file');
    expect(duringStatus).toBe(200); // the refresh counted as done: its token set was journaled, fsync'd
    expect(journaled).toHaveLength(1);
    expect(run!.h.logLines.some((line) => line.includes('"token.journaled"'))).toBe(true);
    expect(run!.h.logLines.some((line) => line.includes('token.persist_failed'))).toBe(false);

    expect(await eventually200(accounts, 6000)).toBe(200);
    expect(run!.h.logLines.some((line) => line.includes('"token.journal_replayed"'))).toBe(true);
    expect((await view()).status).toBe('active');

    // Redis now holds the rotated refresh token: every later refresh presents it (or its successors) and the
    // bank accepts it (the journaled access token may already have expired during the outage: one more refresh).
    await sleep(ACCESS_TTL_SECONDS * 1000 + 300);
    expect((await accounts()).status).toBe(200);
    const sg = (await run!.h.stats()).banks.sg;
    expect(sg.tokenRequests.refresh_token).toBeGreaterThanOrEqual(2);
    expect(sg.tokenErrors.invalid_grant ?? 0).toBe(0);
    expect((await view()).status).toBe('active');
  }, 60_000);

  it('without a journal (store.journal none): the same faults lose the consent (what the journal prevents)', async () => {
    const { accounts, view, duringStatus, journaled } = await scenario('none');
    expect(duringStatus).toBe(503);
    expect(journaled).toHaveLength(0);
    expect(run!.h.logLines.some((line) => line.includes('token.persist_failed'))).toBe(true);
    // Redis is back with the refresh token the bank killed: the next refresh presents it and is refused.
    await eventually200(accounts, 3000);
    const problem = (await (await accounts()).json()) as { code?: string };
    expect(problem.code).toBe('reconsent_required');
    expect((await view()).status).toBe('reconsent_required');
    expect((await run!.h.stats()).banks.sg.tokenErrors.invalid_grant).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
