import { describe, expect, it } from 'vitest';
import { silentLogger } from '../log.js';
import { BankgateError } from '../errors/bankgate-error.js';
import type { Connection, ConnectionStore, TokenSet } from './connection.js';
import { journaledStore } from './journaled-store.js';
import { createMemoryStore } from './memory-store.js';
import type { JournalEntry, TokenJournal } from './token-journal.js';

const ID = 'key:app/c1';
const tokens = (n: number): TokenSet => ({ accessToken: `at-${n}`, refreshToken: `rt-${n}`, expiresAt: Date.now() + 60_000, expiresIn: 60 });
const connection = (n: number, extra: Partial<Connection> = {}): Connection => ({ id: 'c1', bank: 'sg', owner: 'key:app', status: 'active', scopes: ['aisp'], createdAt: 1, updatedAt: 2, tokens: tokens(n), ...extra });
const entry = (used: number, next: number, lock?: JournalEntry['lock']): JournalEntry => ({ storageId: ID, usedRefreshToken: `rt-${used}`, tokens: tokens(next), journaledAt: Date.now(), ...(lock ? { lock } : {}) });

/** A journal in memory (the durable one is the Node adapter's file journal, tested over a directory). */
function memoryJournal(initial: JournalEntry[] = []): TokenJournal & { held: Map<string, JournalEntry> } {
  const held = new Map(initial.map((e) => [e.storageId, e]));
  return {
    held,
    write: async (e) => void held.set(e.storageId, e),
    entries: async () => [...held.values()],
    remove: async (id, at) => void (held.get(id)?.journaledAt === at && held.delete(id)),
  };
}

/** The memory store, which can be made unreachable (`away`: every call throws store_unavailable). */
function flakyStore(): ConnectionStore & { away: boolean } {
  const inner = createMemoryStore() as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const flaky = { away: false } as Record<string, unknown> & { away: boolean };
  for (const [name, method] of Object.entries(inner)) {
    flaky[name] = (...args: unknown[]) => (flaky.away && name !== 'close' ? Promise.reject(new BankgateError('store_unavailable', { status: 503, detail: 'away' })) : method.apply(inner, args));
  }
  return flaky as unknown as ConnectionStore & { away: boolean };
}

describe('journaledStore', () => {
  it('keeps a set while the store is away and writes it ahead of the next read once it answers; then forgets it and releases the lock', async () => {
    const inner = flakyStore();
    await inner.create(connection(1));
    expect(await inner.acquireLock('refresh:x', 'me', 60_000)).toBe(true);
    const journal = memoryJournal();
    const store = await journaledStore(inner, journal, { log: silentLogger, replayEveryMs: 60_000 });
    inner.away = true;
    await store.keepRefreshed!(entry(1, 2, { name: 'refresh:x', owner: 'me' }));
    await expect(store.get(ID)).rejects.toMatchObject({ code: 'store_unavailable' });
    expect(journal.held.size).toBe(1);
    inner.away = false;
    expect((await store.get(ID))?.tokens?.accessToken).toBe('at-2');
    expect(journal.held.size).toBe(0);
    expect(await inner.acquireLock('refresh:x', 'other', 60_000)).toBe(true); // released by the replay
    await store.close();
  });

  it('a completed consent lands only where its step claim still stands: else what the store holds is kept', async () => {
    const pendingConsent = (claimId: string): Partial<Connection> => ({ status: 'pending', tokens: undefined, pending: { state: 's1', expiresAt: Date.now() + 60_000, stepClaim: { id: claimId, until: Date.now() + 60_000 } } });
    const completed = (claimId: string): JournalEntry => ({ storageId: ID, tokens: tokens(5), journaledAt: Date.now(), completes: { claimId, connection: connection(5) } });
    for (const [stored, held, lands] of [['claim-a', 'claim-a', true], ['claim-b', 'claim-a', false]] as const) {
      const inner = flakyStore();
      await inner.create(connection(0, pendingConsent(stored)));
      const journal = memoryJournal([completed(held)]);
      const store = await journaledStore(inner, journal, { log: silentLogger, replayEveryMs: 60_000 });
      const after = (await store.get(ID))!;
      expect(after.status, stored).toBe(lands ? 'active' : 'pending');
      expect(after.tokens?.accessToken, stored).toBe(lands ? 'at-5' : undefined);
      expect(after.pending === undefined, stored).toBe(lands);
      expect(journal.held.size).toBe(0);
      await store.close();
    }
  });

  it('replays ahead of a write: a compare-and-set on the revision read before the replay fails, so its writer re-reads', async () => {
    const inner = flakyStore();
    const created = (await inner.create(connection(1)))!;
    const journal = memoryJournal([entry(1, 2)]);
    const store = await journaledStore(inner, journal, { log: silentLogger, replayEveryMs: 60_000 });
    expect(await store.compareAndSet({ ...created, scopes: ['pisp'] }, created.revision!)).toBeUndefined();
    expect((await inner.get(ID))?.tokens?.accessToken).toBe('at-2');
    await store.close();
  });

  it('lands only where the refresh token it used is still stored: a newer consent or a deletion wins', async () => {
    const inner = flakyStore();
    await inner.create(connection(5)); // a re-consent stored rt-5 meanwhile
    const store = await journaledStore(inner, memoryJournal([entry(1, 2)]), { log: silentLogger, replayEveryMs: 60_000 });
    expect((await store.get(ID))?.tokens?.accessToken).toBe('at-5');
    await store.close();

    const empty = flakyStore();
    const journal = memoryJournal([entry(1, 2)]);
    const onEmpty = await journaledStore(empty, journal, { log: silentLogger, replayEveryMs: 60_000 });
    expect(await onEmpty.get(ID)).toBeUndefined();
    expect(journal.held.size).toBe(0);
    await onEmpty.close();
  });

  it('gives an active token set back to a connection marked reconsent_required for the very refresh token it replaces', async () => {
    const inner = flakyStore();
    await inner.create(connection(1, { status: 'reconsent_required', reason: { code: 'reconsent_required', detail: 'invalid_grant' } }));
    const store = await journaledStore(inner, memoryJournal([entry(1, 2)]), { log: silentLogger, replayEveryMs: 60_000 });
    const restored = await store.get(ID);
    expect(restored).toMatchObject({ status: 'active', tokens: { accessToken: 'at-2', refreshToken: 'rt-2' } });
    expect(restored?.reason).toBeUndefined();
    await store.close();

    const revoked = flakyStore();
    await revoked.create(connection(1, { status: 'revoked' }));
    const onRevoked = await journaledStore(revoked, memoryJournal([entry(1, 2)]), { log: silentLogger, replayEveryMs: 60_000 });
    expect(await onRevoked.get(ID)).toMatchObject({ status: 'revoked', tokens: { accessToken: 'at-1' } });
    await onRevoked.close();
  });

  it('offers held entries by itself until the store takes them', async () => {
    const inner = flakyStore();
    await inner.create(connection(1));
    const journal = memoryJournal();
    const store = await journaledStore(inner, journal, { log: silentLogger, replayEveryMs: 20 });
    inner.away = true;
    await store.keepRefreshed!(entry(1, 2));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(journal.held.size).toBe(1);
    inner.away = false;
    const deadline = Date.now() + 2000;
    while (journal.held.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await inner.get(ID))?.tokens?.accessToken).toBe('at-2');
    await store.close();
  });

  it('write-ahead: journals a set before its store write and forgets it once settled, with one durable write per set', async () => {
    const inner = flakyStore();
    await inner.create(connection(1));
    const journal = memoryJournal();
    let writes = 0;
    const counted: TokenJournal = { ...journal, write: async (e) => void (writes++, await journal.write(e)) };
    const store = await journaledStore(inner, counted, { log: silentLogger, replayEveryMs: 60_000 });
    const ahead = entry(1, 2);
    await store.journalAhead!(ahead);
    expect(journal.held.get(ID)).toBe(ahead);
    store.settleJournal!(ahead);
    await store.close(); // waits for the removal, which runs off the refresh's path
    expect(journal.held.size).toBe(0);

    // The store write failed after the write-ahead: the entry is not written twice, it is kept and replayed.
    const again = await journaledStore(inner, counted, { log: silentLogger, replayEveryMs: 60_000 });
    const failed = entry(1, 3);
    await again.journalAhead!(failed);
    await again.keepRefreshed!(failed);
    expect(writes).toBe(2);
    expect((await again.get(ID))?.tokens?.accessToken).toBe('at-3');
    expect(journal.held.size).toBe(0);
    await again.close();
  });

  it('a replica killed between the bank answer and the store write: its next life replays the entry at once and frees the dead lock', async () => {
    const inner = flakyStore();
    await inner.create(connection(1));
    expect(await inner.acquireLock(`refresh:${ID}`, 'dead-life', 60_000)).toBe(true);
    const journal = memoryJournal();
    const killed = await journaledStore(inner, journal, { log: silentLogger, replayEveryMs: 60_000 });
    await killed.journalAhead!(entry(1, 2, { name: `refresh:${ID}`, owner: 'dead-life' }));
    // kill -9 here: no store write, no settle. A new life opens the same journal.
    const restarted = await journaledStore(inner, journal, { log: silentLogger, replayEveryMs: 60_000 });
    const deadline = Date.now() + 2000;
    while (journal.held.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect((await inner.get(ID))?.tokens?.refreshToken).toBe('rt-2'); // replayed without any read of the connection
    expect(await inner.acquireLock(`refresh:${ID}`, 'next', 60_000)).toBe(true); // the dead life's lock released
    await restarted.close();
  });

  it('takes a refresh lock only after replaying the held set of that connection', async () => {
    const inner = flakyStore();
    await inner.create(connection(1));
    const journal = memoryJournal();
    const store = await journaledStore(inner, journal, { log: silentLogger, replayEveryMs: 60_000 });
    inner.away = true;
    await store.keepRefreshed!(entry(1, 2));
    inner.away = false;
    expect(await store.acquireLock(`refresh:${ID}`, 'me', 60_000)).toBe(true);
    expect((await inner.get(ID))?.tokens?.refreshToken).toBe('rt-2');
    await store.close();
  });

  it('opening replays what a killed life left before it returns, and does not hang on a store that is away', async () => {
    const inner = flakyStore();
    await inner.create(connection(1));
    const opened = await journaledStore(inner, memoryJournal([entry(1, 2)]), { log: silentLogger, replayEveryMs: 60_000 });
    expect((await inner.get(ID))?.tokens?.refreshToken).toBe('rt-2'); // already in the store when opening returned
    await opened.close();

    // A store that hangs: opening gives up after startupReplayMs; the entry stays held (the Redis store's command
    // timeout then fails the hung call, and the timer and every access of the connection offer it again).
    const hanging = flakyStore();
    await hanging.create(connection(1));
    const get = hanging.get.bind(hanging);
    let hang = true;
    hanging.get = (id) => (hang ? new Promise(() => {}) : get(id));
    const journal = memoryJournal([entry(1, 2)]);
    const started = Date.now();
    const store = await journaledStore(hanging, journal, { log: silentLogger, replayEveryMs: 60_000, startupReplayMs: 100 });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(journal.held.size).toBe(1);
    hang = false;
    await store.close();
  });
});
