/**
 * Issue 15 (brief s20, item 4): two gateway replicas on one real Redis in front of the SG-like sandbox
 * (rotating refresh tokens). Replica A refreshes while its store is away: the bank rotated the refresh token
 * and A holds the newer set in its journal (written ahead of the store write, fsync'd). A's lease runs out;
 * replica B refreshes with the token the bank rotated and is answered `invalid_grant`. B must not mark the
 * connection `reconsent_required` while the newer set exists:
 *   - A's handover lands while B's refresh is at the bank: B re-reads the store, finds the newer set, keeps it
 *     (no reconsent_required), and the call answers 200;
 *   - A's handover lands after B marked the connection: the replay gives it its newer set back (the store still
 *     held the rotated-from token), and the next call answers 200.
 * The bank's refusal is the sandbox's `invalid-grant` fault (a bank that refuses the rotated-from token without
 * revoking the grant), so that the newer set stays valid at the bank and the 200s prove it was kept.
 * Stores are injected (A's Redis store behind a switch that makes every call fail as an unreachable Redis
 * does), never mocked. Ordering is by protocol (the fault rule taken, the replay logged), not by sleeps.
 */
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
import { startRedis, type RedisServer } from '../vault/redis-server.js';
import { devConnection, startVaultHarness, STORE_KEY, type VaultHarness } from '../vault/vault-harness.js';
import { faultsTaken as waitForFaults, startReplica, switchable, until, type Replica } from './replica-helpers.js';

const LOCK_TTL_SECONDS = 2;
/** Past the sandbox's 3600 s access tokens: every call needs a refresh. */
const EXPIRED_MS = 3601_000;

describe('journal handover between replicas (A holds the newer set, B is refused the rotated-from token)', () => {
  let redis: RedisServer;
  let harness: VaultHarness;
  let storeA: ConnectionStore & { away: boolean };
  let replicaB: Replica;
  let raw: ConnectionStore;
  let journalDirA: string;
  let offsetMs = 0;
  const dirs: string[] = [];
  const now = () => Date.now() + offsetMs;

  beforeAll(async () => {
    redis = await startRedis();
    const keys = new KeyRing(await parseStoreKey(STORE_KEY, 'store key'));
    const log = createJsonLogger(() => {});
    journalDirA = mkdtempSync(join(tmpdir(), 'bankgate-handover-a-'));
    const journalDirB = mkdtempSync(join(tmpdir(), 'bankgate-handover-b-'));
    storeA = switchable(await createRedisStore({ url: redis.url, keys, log }));
    const journaledA = await journaledStore(storeA, await createFileJournal({ dir: journalDirA, keys, log }), { log: createJsonLogger((line) => harness?.logLines.push(line)), replayEveryMs: 50 });
    harness = await startVaultHarness({ accessTtlSeconds: 3600, store: { url: redis.url, lockTtlSeconds: LOCK_TTL_SECONDS } as BankgateConfig['store'], gateway: { store: journaledA, now } });
    const journaledB = await journaledStore(await createRedisStore({ url: redis.url, keys, log }), await createFileJournal({ dir: journalDirB, keys, log }), { log });
    replicaB = await startReplica(journaledB, now, redis.url, LOCK_TTL_SECONDS);
    raw = await createRedisStore({ url: redis.url, keys, log });
    dirs.push(journalDirA, journalDirB);
  }, 60_000);
  afterAll(async () => {
    await replicaB?.close();
    await harness?.close();
    await raw?.close();
    await redis?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  const accountsA = (id: string) => harness.call('/sg/aisp/accounts', { headers: { 'x-connection-id': id } });
  const accountsB = (id: string) => replicaB.accounts(id);

  const faultsTaken = (ms?: number) => waitForFaults(harness.sandbox.controlUrl, ms);

  /** A refreshes the connection while its store is away: returns the refresh token the bank rotated (still in Redis). */
  async function aHoldsTheNewerSet(id: string): Promise<{ rotatedFrom: string }> {
    offsetMs = 0;
    await harness.connect('sg', id);
    const before = (await raw.get(devConnection(id)))!;
    offsetMs = EXPIRED_MS;
    // The bank holds A's refresh a moment; A's store goes away meanwhile: A's store write fails after the bank rotated.
    await harness.faults([{ bank: 'sg', target: 'token', action: 'delay', delayMs: 500, grantType: 'refresh_token' }]);
    const pending = accountsA(id);
    await faultsTaken();
    storeA.away = true;
    expect((await pending).status).toBe(200); // the refresh counted as done: journaled
    expect(readdirSync(journalDirA).filter((name) => name.endsWith('.journal'))).toHaveLength(1);
    const still = (await raw.get(devConnection(id)))!;
    expect(still.tokens!.refreshToken).toBe(before.tokens!.refreshToken); // Redis holds the token the bank rotated
    return { rotatedFrom: before.tokens!.refreshToken! };
  }

  it('the handover lands while B is refused: B re-reads, keeps the newer set, marks nothing; the call and the next ones answer 200', async () => {
    const id = 'handover-during';
    const { rotatedFrom } = await aHoldsTheNewerSet(id);
    // B's refresh (after A's lease ran out, A being unable to renew it) presents the rotated-from token; the bank
    // refuses it after 2 s, and A's store comes back while it is at the bank.
    await harness.faults([{ bank: 'sg', target: 'token', action: 'invalid-grant', delayMs: 2000, grantType: 'refresh_token' }]);
    let answeredAt = Infinity;
    const pendingB = accountsB(id).then((response) => ((answeredAt = Date.now()), response));
    await faultsTaken(LOCK_TTL_SECONDS * 1000 + 10_000);
    storeA.away = false;
    await until(() => harness.logLines.some((line) => line.includes('"token.journal_replayed"') && line.includes(id)), "A's journal replay");
    // The scenario's premise: the handover landed while B's refresh was still at the bank (refused 2 s after it arrived).
    expect(answeredAt).toBe(Infinity);
    const answerB = await pendingB;
    expect(answerB.status).toBe(200);
    expect(replicaB.logLines.some((line) => line.includes('"token.refresh_superseded"') && line.includes(id))).toBe(true);
    expect(replicaB.logLines.some((line) => line.includes('"connection.reconsent_required"') && line.includes(id))).toBe(false);
    const stored = (await raw.get(devConnection(id)))!;
    expect(stored.status).toBe('active');
    expect(stored.tokens!.refreshToken).not.toBe(rotatedFrom);
    expect((await accountsB(id)).status).toBe(200);
    expect((await accountsA(id)).status).toBe(200);
  }, 60_000);

  it('the handover lands after B marked the connection: the newer set is given back, the next call answers 200', async () => {
    const id = 'handover-after';
    const { rotatedFrom } = await aHoldsTheNewerSet(id);
    await harness.faults([{ bank: 'sg', target: 'token', action: 'invalid-grant', grantType: 'refresh_token' }]);
    const answerB = await accountsB(id);
    expect(answerB.status).toBe(409);
    expect(((await answerB.json()) as { code: string }).code).toBe('reconsent_required');
    expect((await raw.get(devConnection(id)))!).toMatchObject({ status: 'reconsent_required', tokens: { refreshToken: rotatedFrom } });
    storeA.away = false;
    await until(() => harness.logLines.some((line) => line.includes('"token.journal_replayed"') && line.includes(id)), "A's journal replay");
    const restored = (await raw.get(devConnection(id)))!;
    expect(restored.status).toBe('active');
    expect(restored.reason).toBeUndefined();
    expect(restored.tokens!.refreshToken).not.toBe(rotatedFrom);
    expect((await accountsB(id)).status).toBe(200);
  }, 60_000);
});
