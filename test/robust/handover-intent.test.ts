/**
 * Issue 15, brief s21 item 3: a dead holder's journal is handed over, not refreshed over. Two gateway replicas on
 * one real Redis in front of the SG-like sandbox (refresh tokens rotated on every use; a rotated one presented again
 * is a double refresh: the bank revokes the grant). Replica A refreshes while its store is away: the bank rotated the
 * refresh token, A holds the newer set in its journal, and its lease runs out (it cannot renew it). Replica B then
 * takes the refresh lock: the lock carries A's intent (a digest of the token A presented, recorded with A's lock in
 * the same round trip), unresolved, and the store still holds that very token. B must not present it: it waits (at
 * most the handover wait, here the 2 s lock TTL) for A's replay, and uses the set A hands over: no double refresh,
 * the call answers 200. And when no holder comes back, B presents the token after that bounded wait.
 * Stores are injected (A's Redis store behind a switch that fails every call as an unreachable Redis does), never
 * mocked. Ordering is by protocol (fault rules taken, log lines), not by sleeps.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJsonLogger } from '../../plugin/adapter/node/index.js';
import { createFileJournal } from '../../plugin/adapter/node/store/file-journal.js';
import { createRedisStore } from '../../plugin/adapter/node/store/redis-store.js';
import type { BankgateConfig } from '../../plugin/index.js';
import type { ConnectionStore } from '../../plugin/store/connection.js';
import { journaledStore } from '../../plugin/store/journaled-store.js';
import { KeyRing, parseStoreKey } from '../../plugin/store/key-ring.js';
import type { LedgerSnapshot } from '../../sandbox/sg/refresh-ledger.js';
import { startRedis, type RedisServer } from '../vault/redis-server.js';
import { devConnection, startVaultHarness, STORE_KEY, type VaultHarness } from '../vault/vault-harness.js';
import { faultsTaken, startReplica, switchable, until, type Replica } from './replica-helpers.js';

const LOCK_TTL_SECONDS = 2;
/** Past the sandbox's 3600 s access tokens: every call needs a refresh. */
const EXPIRED_MS = 3601_000;

describe("a dead holder's journaled refresh is handed over, not refreshed over", () => {
  let redis: RedisServer;
  let harness: VaultHarness;
  let storeA: ConnectionStore & { away: boolean };
  let replicaB: Replica;
  let raw: ConnectionStore;
  let offsetMs = 0;
  const dirs: string[] = [];
  const now = () => Date.now() + offsetMs;

  beforeAll(async () => {
    redis = await startRedis();
    const keys = new KeyRing(await parseStoreKey(STORE_KEY, 'store key'));
    const log = createJsonLogger(() => {});
    const journalDirA = mkdtempSync(join(tmpdir(), 'bankgate-intent-a-'));
    const journalDirB = mkdtempSync(join(tmpdir(), 'bankgate-intent-b-'));
    dirs.push(journalDirA, journalDirB);
    storeA = switchable(await createRedisStore({ url: redis.url, keys, log }));
    const journaledA = await journaledStore(storeA, await createFileJournal({ dir: journalDirA, keys, log }), { log: createJsonLogger((line) => harness?.logLines.push(line)), replayEveryMs: 50 });
    harness = await startVaultHarness({ accessTtlSeconds: 3600, store: { url: redis.url, lockTtlSeconds: LOCK_TTL_SECONDS, handoverWaitSeconds: LOCK_TTL_SECONDS } as BankgateConfig['store'], gateway: { store: journaledA, now } });
    const journaledB = await journaledStore(await createRedisStore({ url: redis.url, keys, log }), await createFileJournal({ dir: journalDirB, keys, log }), { log });
    // Both replicas configured alike: store.handoverWaitSeconds (off by default) records intents and waits the lock TTL.
    replicaB = await startReplica(journaledB, now, redis.url, LOCK_TTL_SECONDS, LOCK_TTL_SECONDS);
    raw = await createRedisStore({ url: redis.url, keys, log });
  }, 60_000);
  afterAll(async () => {
    await replicaB?.close();
    await harness?.close();
    await raw?.close();
    await redis?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  const ledger = async () => (await (await fetch(`${harness.sandbox.controlUrl}/refresh-ledger`)).json()) as LedgerSnapshot;
  /** The bank's refresh ledger from now on (its lists are not cleared by a stats reset). */
  async function ledgerFromNow(): Promise<() => Promise<LedgerSnapshot>> {
    const { issuances, refusals } = await ledger();
    return async () => {
      const now = await ledger();
      return { ...now, issuances: now.issuances.slice(issuances.length), refusals: now.refusals.slice(refusals.length) };
    };
  }
  const logged = (lines: string[], event: string, id: string) => lines.some((line) => line.includes(`"${event}"`) && line.includes(id));

  it('A journaled the rotated set and lost its lease; B waits for the handover instead of presenting the rotated-from token: no double refresh, 200', async () => {
    const id = 'intent-handover';
    offsetMs = 0;
    await harness.connect('sg', id);
    const before = (await raw.get(devConnection(id)))!;
    offsetMs = EXPIRED_MS;
    // A's refresh is held at the bank a moment; A's store goes away meanwhile: A's store write fails after the bank rotated.
    await harness.faults([{ bank: 'sg', target: 'token', action: 'delay', delayMs: 500, grantType: 'refresh_token' }]);
    const pendingA = harness.call('/sg/aisp/accounts', { headers: { 'x-connection-id': id } });
    await faultsTaken(harness.sandbox.controlUrl);
    storeA.away = true;
    expect((await pendingA).status).toBe(200); // the refresh counted as done: journaled
    expect(readdirSync(dirs[0]!).filter((name) => name.endsWith('.journal'))).toHaveLength(1);
    expect((await raw.get(devConnection(id)))!.tokens!.refreshToken).toBe(before.tokens!.refreshToken);
    const sinceA = await ledgerFromNow();

    // B's call needs a refresh: it takes the lock once A's lease ran out, finds A's unresolved intent, and waits.
    let answered = false;
    const pendingB = replicaB.accounts(id).finally(() => (answered = true));
    // (Without the handover, B answers without waiting: what it did then shows in the outcome below.)
    await until(() => answered || logged(replicaB.logLines, 'token.handover_wait', id), "B's handover wait", LOCK_TTL_SECONDS * 1000 + 10_000);
    storeA.away = false; // A reaches the store again: its journal replays the newer set
    await until(() => logged(harness.logLines, 'token.journal_replayed', id), "A's journal replay");
    const answerB = await pendingB;
    const bank = await sinceA();
    const stored = (await raw.get(devConnection(id)))!;
    expect({
      answerB: answerB.status,
      handedOver: logged(replicaB.logLines, 'token.handed_over', id),
      refreshesAtTheBank: bank.issuances.filter((issuance) => issuance.grantType === 'refresh_token').length,
      refused: bank.refusals.map((refusal) => refusal.kind),
      status: stored.status,
      storedIsNewer: stored.tokens!.refreshToken !== before.tokens!.refreshToken,
    }).toEqual({ answerB: 200, handedOver: true, refreshesAtTheBank: 0, refused: [], status: 'active', storedIsNewer: true });
    expect((await replicaB.accounts(id)).status).toBe(200);
    expect((await harness.call('/sg/aisp/accounts', { headers: { 'x-connection-id': id } })).status).toBe(200);
  }, 60_000);

  it('a holder that never comes back delays the next refresh by the handover wait at most, then the token is presented (one refresh, 200)', async () => {
    const id = 'intent-gone';
    storeA.away = false;
    offsetMs = 0;
    await harness.connect('sg', id);
    const stored = (await raw.get(devConnection(id)))!;
    // A holder that recorded its intent on this token and died before the bank saw anything (its lease short).
    const digest = createHash('sha256').update(stored.tokens!.refreshToken!).digest().subarray(0, 16).toString('base64url');
    expect(await raw.acquireLockWithIntent!(`refresh:${devConnection(id)}`, 'dead-replica:1:x', 200, { value: digest, ttlMs: 60_000 })).toEqual({ acquired: true });
    offsetMs = EXPIRED_MS;
    const sinceNow = await ledgerFromNow();
    const started = Date.now();
    const answer = await replicaB.accounts(id);
    const waited = Date.now() - started;
    const bank = await sinceNow();
    expect({
      answer: answer.status,
      timedOut: logged(replicaB.logLines, 'token.handover_timeout', id),
      refreshesAtTheBank: bank.issuances.filter((issuance) => issuance.grantType === 'refresh_token').length,
      refused: bank.refusals.length,
    }).toEqual({ answer: 200, timedOut: true, refreshesAtTheBank: 1, refused: 0 });
    // Bounded: the dead lease (200 ms) and the handover wait (the 2 s lock TTL), plus the refresh itself.
    expect(waited).toBeGreaterThanOrEqual(LOCK_TTL_SECONDS * 1000);
    expect(waited).toBeLessThan(LOCK_TTL_SECONDS * 1000 + 200 + 3000);
  }, 60_000);
});
