/**
 * The ConnectionStore contract (v2, design/contracts.md §2–§3) as plain checks, runnable in any runtime (no
 * vitest inside): revisions and compare-and-set, create-if-absent, the state index, locks with leases,
 * rolling-window counters, each also under concurrency. A runtime's runner (`probe/kv-contract.ts` for Deno
 * KV) calls `runStoreContract` and prints one line per check; the vitest side asserts every line.
 */
import { connectionStorageId, type Connection, type ConnectionStore } from '../../plugin/store/connection.js';


export const ACCESS = 'AT-plaintext-access-token-0123456789';
export const REFRESH = 'RT-plaintext-refresh-token-0123456789';

export const OWNER = 'key:dev';
/** The storage id of a connection of OWNER's (what every store method that takes an id takes). */
export const sid = (id: string) => connectionStorageId(OWNER, id);

export function connection(id: string, extra: Partial<Connection> = {}): Connection {
  return {
    id,
    bank: 'sg',
    owner: OWNER,
    status: 'active',
    scopes: ['aisp'],
    createdAt: 1,
    updatedAt: 1,
    tokens: { accessToken: `${ACCESS}-${id}`, refreshToken: `${REFRESH}-${id}`, expiresAt: Date.now() + 60_000, expiresIn: 60 },
    ...extra,
  };
}

class ContractFailure extends Error {}
function check(condition: boolean, what: string): void {
  if (!condition) throw new ContractFailure(what);
}
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Check = (store: ConnectionStore) => Promise<void>;

export const STORE_CONTRACT: ReadonlyArray<readonly [string, Check]> = [
  [
    'revisions; compare-and-set writes only on the revision read',
    async (store) => {
      const first = await store.put(connection('c1'));
      check(first.revision === 1, `put → revision 1 (got ${first.revision})`);
      check(same(await store.get(sid('c1')), first), 'get returns what put stored');
      const second = await store.compareAndSet({ ...first, status: 'reconsent_required' }, 1);
      check(second?.revision === 2, 'compareAndSet on the revision read → revision 2');
      check((await store.compareAndSet({ ...first, status: 'revoked' }, 1)) === undefined, 'compareAndSet on a stale revision → undefined');
      check((await store.get(sid('c1')))?.status === 'reconsent_required', 'the stale write did not land');
    },
  ],
  [
    '20 concurrent compare-and-sets on one revision: exactly one wins',
    async (store) => {
      const stored = await store.put(connection('race'));
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.compareAndSet({ ...stored, updatedAt: i + 2 }, stored.revision!)));
      const won = results.filter((r) => r !== undefined);
      check(won.length === 1, `one winner (got ${won.length})`);
      check((await store.get(sid('race')))?.updatedAt === won[0]!.updatedAt, "the winner's write is stored");
    },
  ],
  [
    'create is create-if-absent: 10 concurrent creates of one id, exactly one creates; never overwrites',
    async (store) => {
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.create(connection('fresh', { createdAt: i + 1 }))));
      const created = results.filter((r) => r !== undefined);
      check(created.length === 1 && created[0]!.revision === 1, `one creation at revision 1 (got ${created.length})`);
      check((await store.get(sid('fresh')))?.createdAt === created[0]!.createdAt, 'the created record is stored');
      check((await store.create(connection('fresh'))) === undefined, 'create on an existing id → undefined');
    },
  ],
  [
    'never writes a deleted connection back',
    async (store) => {
      const stored = await store.put(connection('gone'));
      await store.delete(sid('gone'));
      check((await store.compareAndSet(stored, stored.revision!)) === undefined, 'compareAndSet on a deleted record → undefined');
      check((await store.get(sid('gone'))) === undefined, 'still gone');
    },
  ],
  [
    'finds a pending consent by its state, and forgets the index when the consent ends',
    async (store) => {
      const pending = { state: 'st-1', codeVerifier: 'v', redirectUri: 'http://127.0.0.1/callback/sg', expiresAt: Date.now() + 60_000 };
      const stored = await store.put(connection('p1', { status: 'pending', tokens: undefined, pending }));
      check((await store.findByState('st-1'))?.id === 'p1', 'found by state');
      await store.compareAndSet({ ...stored, pending: undefined, status: 'active' }, stored.revision!);
      check((await store.findByState('st-1')) === undefined, 'index forgotten when the consent ends');
      check((await store.findByState('nope')) === undefined, 'unknown state → undefined');
      const settled = (await store.get(sid('p1')))!;
      const done = await store.compareAndSet({ ...settled, settledConsent: { state: 'st-2', outcome: 'active', expiresAt: Date.now() + 60_000 } }, settled.revision!);
      check((await store.findByState('st-2'))?.id === 'p1', 'a settled consent is found by its state until its window closes');
      await store.compareAndSet({ ...done!, settledConsent: { state: 'st-2', outcome: 'active', expiresAt: Date.now() - 1 } }, done!.revision!);
      check((await store.findByState('st-2')) === undefined, 'not once its window closed');
    },
  ],
  [
    'locks: one owner at a time, released only by its owner, free again after the TTL; renewed only by its holder',
    async (store) => {
      check(await store.acquireLock('refresh:x', 'a', 300), 'a takes the free lock');
      check(!(await store.acquireLock('refresh:x', 'b', 300)), 'b cannot take a held lock');
      check(!(await store.releaseLock('refresh:x', 'b')), 'b cannot release a lock it does not hold');
      check(!(await store.renewLock('refresh:x', 'b', 300)), 'b cannot renew a lock it does not hold');
      check(await store.renewLock('refresh:x', 'a', 600), 'a renews its lease');
      await sleep(400);
      check(!(await store.acquireLock('refresh:x', 'b', 300)), 'the renewed lease still holds past the first TTL');
      check(await store.releaseLock('refresh:x', 'a'), 'a releases');
      check(await store.acquireLock('refresh:x', 'b', 300), 'b takes it once free');
      await sleep(400);
      check(!(await store.renewLock('refresh:x', 'b', 300)), 'an expired lease cannot be renewed');
      check(await store.acquireLock('refresh:x', 'c', 300), 'free again after the TTL');
      check(!(await store.releaseLock('refresh:x', 'b')), 'the expired holder cannot release the new one');
      const takers = await Promise.all(Array.from({ length: 10 }, (_, i) => store.acquireLock('refresh:y', `o${i}`, 5_000)));
      check(takers.filter(Boolean).length === 1, `10 concurrent takers: one holds (got ${takers.filter(Boolean).length})`);
    },
  ],
  [
    'the same connection id of two owners: two connections, neither sees the other',
    async (store) => {
      await store.create(connection('shared'));
      await store.create(connection('shared', { owner: 'key:other', status: 'pending' }));
      check((await store.get(sid('shared')))?.status === 'active', "OWNER's connection");
      check((await store.get(connectionStorageId('key:other', 'shared')))?.status === 'pending', "the other owner's connection");
      await store.delete(connectionStorageId('key:other', 'shared'));
      check((await store.get(sid('shared')))?.status === 'active', 'deleting one leaves the other');
    },
  ],
  [
    'rolling window: counts up to the limit, a refused hit is not counted, hits leave after the window',
    async (store) => {
      const options = { windowMs: 1_000, limit: 3 };
      const t0 = 1_000_000;
      for (let i = 0; i < 3; i++) {
        const hit = await store.hitWindow('budget:a', { ...options, now: t0 + i * 100 });
        check(hit.allowed && hit.count === i + 1, `hit ${i + 1} allowed with count ${i + 1} (got ${JSON.stringify(hit)})`);
      }
      const refused = await store.hitWindow('budget:a', { ...options, now: t0 + 300 });
      check(!refused.allowed && refused.count === 3 && refused.retryAfterMs === 700, `4th refused, retry after 700 ms (got ${JSON.stringify(refused)})`);
      check(same(await store.peekWindow('budget:a', { windowMs: 1_000, now: t0 + 300 }), { count: 3, resetAt: t0 + 1_000 }), 'peek: 3, reset when the oldest leaves');
      const later = await store.hitWindow('budget:a', { ...options, now: t0 + 1_050 });
      check(later.allowed && later.count === 3, `after the oldest left: allowed, count 3 (got ${JSON.stringify(later)})`);
      check(same(await store.peekWindow('budget:none', { windowMs: 1_000, now: t0 }), { count: 0 }), 'an empty window: count 0');
      const burst = await Promise.all(Array.from({ length: 12 }, () => store.hitWindow('budget:b', { windowMs: 60_000, limit: 5, now: t0 })));
      check(burst.filter((h) => h.allowed).length === 5, `12 concurrent hits, limit 5: 5 allowed (got ${burst.filter((h) => h.allowed).length})`);
    },
  ],
];

/** Runs every check on a fresh store from `open`; one line per check (`ok <name>` / `fail <name>: why`). */
export async function runStoreContract(open: () => Promise<ConnectionStore>, print: (line: string) => void): Promise<void> {
  for (const [name, run] of STORE_CONTRACT) {
    const store = await open();
    try {
      await run(store);
      print(`contract ok ${name}`);
    } catch (error) {
      print(`contract fail ${name}: ${error instanceof ContractFailure ? error.message : String((error as Error)?.stack ?? error)}`);
    } finally {
      await store.close();
    }
  }
}
