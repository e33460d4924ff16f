import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJsonLogger } from '../../plugin/adapter/node/log.js';
import { silentLogger } from '../../plugin/log.js';
import { connectionStorageId, type Connection, type ConnectionStore } from '../../plugin/store/connection.js';
import { createFileStore } from '../../plugin/adapter/node/store/file-store.js';
import { KeyRing, parseStoreKey } from '../../plugin/store/key-ring.js';
import { createMemoryStore } from '../../plugin/store/memory-store.js';
import { createRedisStore } from '../../plugin/adapter/node/store/redis-store.js';
import { startRedis, type RedisServer } from './redis-server.js';

const keyA = await parseStoreKey(Buffer.alloc(32, 1).toString('base64'), 'a');
const keyB = await parseStoreKey(Buffer.alloc(32, 2).toString('hex'), 'b');
const ACCESS = 'AT-plaintext-access-token-0123456789';
const REFRESH = 'RT-plaintext-refresh-token-0123456789';

const OWNER = 'key:dev';
/** The storage id of the test owner's connection `id`. */
const sid = (id: string) => connectionStorageId(OWNER, id);

function connection(id: string, extra: Partial<Connection> = {}): Connection {
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

let redis: RedisServer;
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'bankgate-store-'));
  dirs.push(dir);
  return dir;
};
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const kinds: Array<[string, () => Promise<ConnectionStore>]> = [
  ['memory', async () => createMemoryStore()],
  ['file', async () => createFileStore({ dir: join(tempDir(), 'tokens'), keys: new KeyRing(keyA), log: silentLogger })],
  ['redis', async () => createRedisStore({ url: redis.url, keys: new KeyRing(keyA), log: silentLogger, keyPrefix: `t${Math.random().toString(36).slice(2)}:` })],
];

describe.each(kinds)('%s store: the ConnectionStore contract', (_kind, open) => {
  it('stores with revisions; compare-and-set writes only on the revision read', async () => {
    const store = await open();
    const first = (await store.create(connection('c1')))!;
    expect(first.revision).toBe(1);
    expect(await store.get(sid('c1'))).toEqual(first);
    const second = await store.compareAndSet({ ...first, status: 'reconsent_required' }, 1);
    expect(second?.revision).toBe(2);
    expect(await store.compareAndSet({ ...first, status: 'active' }, 1)).toBeUndefined();
    expect((await store.get(sid('c1')))?.status).toBe('reconsent_required');
    await store.close();
  });

  it('creates only if absent, atomically: of ten concurrent creations one lands, the others see the id taken', async () => {
    const store = await open();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.create(connection('race', { scopes: [`s${i}`] }))));
    const created = results.filter((r) => r !== undefined);
    expect(created).toHaveLength(1);
    expect((await store.get(sid('race')))?.scopes).toEqual(created[0]!.scopes);
    expect((await store.get(sid('race')))?.revision).toBe(1);
    expect(await store.create(connection('race'))).toBeUndefined();
    await store.close();
  });

  it('connection ids are per owner: the same id under two owners is two connections, each seen only under its own', async () => {
    const store = await open();
    const mine = await store.create(connection('x', { owner: 'key:batch-job', scopes: ['mine'] }));
    const theirs = await store.create(connection('x', { owner: 'jwt:https://sso.internal#batch-job', scopes: ['theirs'] }));
    expect(mine && theirs).toBeTruthy();
    expect((await store.get(connectionStorageId('key:batch-job', 'x')))?.scopes).toEqual(['mine']);
    expect((await store.get(connectionStorageId('jwt:https://sso.internal#batch-job', 'x')))?.scopes).toEqual(['theirs']);
    expect(await store.get('x')).toBeUndefined();
    await store.delete(connectionStorageId('key:batch-job', 'x'));
    expect((await store.get(connectionStorageId('jwt:https://sso.internal#batch-job', 'x')))?.scopes).toEqual(['theirs']);
    await store.close();
  });

  it('never writes a deleted connection back (compare-and-set on a gone row)', async () => {
    const store = await open();
    const stored = (await store.create(connection('gone')))!;
    await store.delete(sid('gone'));
    expect(await store.compareAndSet(stored, stored.revision!)).toBeUndefined();
    expect(await store.get(sid('gone'))).toBeUndefined();
    await store.close();
  });

  it('finds a pending consent by its state; after it settles, by its settled outcome until that expires', async () => {
    const store = await open();
    const pending = { state: 'st-1', codeVerifier: 'v', redirectUri: 'http://127.0.0.1/callback/sg', expiresAt: Date.now() + 60_000 };
    const stored = (await store.create(connection('p1', { status: 'pending', tokens: undefined, pending })))!;
    expect((await store.findByState('st-1'))?.id).toBe('p1');
    const settled = (await store.compareAndSet({ ...stored, pending: undefined, status: 'active', settledConsent: { state: 'st-1', outcome: 'active', expiresAt: Date.now() + 300 } }, stored.revision!))!;
    expect((await store.findByState('st-1'))?.settledConsent?.outcome).toBe('active');
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await store.findByState('st-1')).toBeUndefined();
    await store.compareAndSet({ ...settled, settledConsent: undefined }, settled.revision!);
    expect(await store.findByState('st-1')).toBeUndefined();
    expect(await store.findByState('nope')).toBeUndefined();
    await store.close();
  });

  it('locks: one owner at a time, released only by its owner, free again after the TTL', async () => {
    const store = await open();
    expect(await store.acquireLock('refresh:x', 'a', 300)).toBe(true);
    expect(await store.acquireLock('refresh:x', 'b', 300)).toBe(false);
    expect(await store.releaseLock('refresh:x', 'b')).toBe(false);
    expect(await store.acquireLock('refresh:x', 'b', 300)).toBe(false);
    expect(await store.releaseLock('refresh:x', 'a')).toBe(true);
    expect(await store.acquireLock('refresh:x', 'b', 300)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await store.acquireLock('refresh:x', 'c', 300)).toBe(true);
    expect(await store.releaseLock('refresh:x', 'b')).toBe(false);
    await store.close();
  });

  it('leases: the holder renews its lock past the first TTL; nobody else can, and an expired lease is not renewed', async () => {
    // Every wait here is a lower bound (a loaded machine only waits longer); every TTL that must not run out
    // is long against it.
    const store = await open();
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    expect(await store.acquireLock('refresh:lease', 'a', 200)).toBe(true);
    expect(await store.renewLock('refresh:lease', 'b', 60_000)).toBe(false);
    expect(await store.renewLock('refresh:lease', 'a', 60_000)).toBe(true);
    await sleep(500);
    // Past the first TTL: still a's, because a renewed it.
    expect(await store.acquireLock('refresh:lease', 'b', 200)).toBe(false);
    expect(await store.renewLock('refresh:lease', 'a', 60_000)).toBe(true);
    // An expired lease is nobody's: its holder cannot renew it, another owner can take it.
    expect(await store.acquireLock('refresh:short', 'a', 100)).toBe(true);
    await sleep(400);
    expect(await store.renewLock('refresh:short', 'a', 60_000)).toBe(false);
    expect(await store.acquireLock('refresh:short', 'b', 60_000)).toBe(true);
    expect(await store.renewLock('refresh:short', 'a', 60_000)).toBe(false);
    expect(await store.releaseLock('refresh:short', 'a')).toBe(false);
    expect(await store.releaseLock('refresh:short', 'b')).toBe(true);
    await store.close();
  });

  it('rolling windows: counts up to the limit, a refused hit is not counted, hits leave the window with time', async () => {
    const store = await open();
    const t0 = 1_700_000_000_000;
    const day = 24 * 3600_000;
    const hit = (now: number) => store.hitWindow('budget:x', { windowMs: day, limit: 3, now });
    expect(await store.peekWindow('budget:x', { windowMs: day, now: t0 })).toEqual({ count: 0 });
    expect(await hit(t0)).toEqual({ allowed: true, count: 1 });
    expect(await hit(t0 + 1000)).toEqual({ allowed: true, count: 2 });
    expect(await hit(t0 + 2000)).toEqual({ allowed: true, count: 3 });
    expect(await hit(t0 + 3000)).toEqual({ allowed: false, count: 3, retryAfterMs: day - 3000 });
    expect(await hit(t0 + 4000)).toEqual({ allowed: false, count: 3, retryAfterMs: day - 4000 });
    expect(await store.peekWindow('budget:x', { windowMs: day, now: t0 + 5000 })).toEqual({ count: 3, resetAt: t0 + day });
    // The first hit leaves the window: one more fits.
    expect(await hit(t0 + day)).toEqual({ allowed: true, count: 3 });
    expect(await store.peekWindow('budget:x', { windowMs: day, now: t0 + day + 1500 })).toEqual({ count: 2, resetAt: t0 + 2000 + day });
    expect(await store.peekWindow('budget:other', { windowMs: day, now: t0 })).toEqual({ count: 0 });
    await expect(store.hitWindow('budget:x', { windowMs: day, limit: 0, now: t0 })).rejects.toThrow(/limit/);
    await store.close();
  });

  it('rolling windows: of twenty concurrent hits with limit 4, exactly four are counted', async () => {
    const store = await open();
    const now = Date.now();
    const results = await Promise.all(Array.from({ length: 20 }, () => store.hitWindow('budget:burst', { windowMs: 60_000, limit: 4, now })));
    expect(results.filter((r) => r.allowed)).toHaveLength(4);
    expect(results.filter((r) => !r.allowed).every((r) => r.count === 4 && r.retryAfterMs === 60_000)).toBe(true);
    expect((await store.peekWindow('budget:burst', { windowMs: 60_000, now })).count).toBe(4);
    await store.close();
  });
});

describe('shared stores: two replicas on one Redis', () => {
  it('create, windows and leases hold across replicas', async () => {
    const prefix = `shared${Math.random().toString(36).slice(2)}:`;
    const [a, b] = await Promise.all([0, 1].map(() => createRedisStore({ url: redis.url, keys: new KeyRing(keyA), log: silentLogger, keyPrefix: prefix })));
    const created = await Promise.all([a!.create(connection('both')), b!.create(connection('both'))]);
    expect(created.filter(Boolean)).toHaveLength(1);
    const now = Date.now();
    const hits = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a! : b!).hitWindow('budget:shared', { windowMs: 60_000, limit: 3, now })));
    expect(hits.filter((h) => h.allowed)).toHaveLength(3);
    expect(await a!.acquireLock('refresh:shared', 'a', 60_000)).toBe(true);
    expect(await b!.renewLock('refresh:shared', 'b', 60_000)).toBe(false);
    expect(await a!.renewLock('refresh:shared', 'a', 60_000)).toBe(true);
    await Promise.all([a!.close(), b!.close()]);
  });
});

describe('file store: rolling windows survive a restart', () => {
  it('the counts are where they were', async () => {
    const dir = join(tempDir(), 'tokens');
    const now = Date.now();
    const first = await createFileStore({ dir, keys: new KeyRing(keyA), log: silentLogger });
    for (let i = 0; i < 2; i++) expect((await first.hitWindow('budget:persist', { windowMs: 60_000, limit: 2, now: now + i })).allowed).toBe(true);
    await first.close();
    const second = await createFileStore({ dir, keys: new KeyRing(keyA), log: silentLogger });
    expect(await second.hitWindow('budget:persist', { windowMs: 60_000, limit: 2, now: now + 10 })).toMatchObject({ allowed: false, count: 2 });
    expect(readdirSync(dir).filter((f) => f.startsWith('w_')).map((f) => readFileSync(join(dir, f), 'utf8')).join()).not.toContain(String(now));
    await second.close();
  });
});

describe('encryption at rest', () => {
  it('the file store holds no token in plaintext, and files are 0600', async () => {
    const dir = join(tempDir(), 'tokens');
    const store = await createFileStore({ dir, keys: new KeyRing(keyA), log: silentLogger });
    await store.create(connection('f1'));
    await store.close();
    const files = readdirSync(dir).filter((f) => f.startsWith('c_'));
    expect(files).toHaveLength(1);
    const raw = readFileSync(join(dir, files[0]!));
    expect(raw.includes(ACCESS)).toBe(false);
    expect(raw.includes(REFRESH)).toBe(false);
    expect(raw.toString()).toMatch(new RegExp(`"sealed":"v1\\.${keyA.id}\\.`));
  });

  it('Redis holds no token in plaintext (every value of every key read raw)', async () => {
    const prefix = 'raw:';
    const store = await createRedisStore({ url: redis.url, keys: new KeyRing(keyA), log: silentLogger, keyPrefix: prefix });
    await store.create(connection('r1', { pending: { state: 'st-r1', codeVerifier: 'verifier-secret-0123', redirectUri: 'x', expiresAt: Date.now() + 60_000 } }));
    const client = redis.client();
    const keys = await client.keys(`${prefix}*`);
    expect(keys.length).toBe(2);
    expect(keys.some((k) => k.includes('st-r1'))).toBe(false);
    for (const key of keys) {
      const type = await client.type(key);
      const values = type === 'hash' ? Object.values(await client.hgetall(key)) : [(await client.get(key)) ?? ''];
      for (const value of values) for (const secret of [ACCESS, REFRESH, 'verifier-secret-0123', 'st-r1']) expect(value.includes(secret)).toBe(false);
    }
    await store.close();
  });

  it('rotates keys: old key ids still open, new writes use the current key; the file store re-seals at start', async () => {
    const dir = join(tempDir(), 'tokens');
    const before = await createFileStore({ dir, keys: new KeyRing(keyA), log: silentLogger });
    await before.create(connection('k1'));
    await before.close();
    const rotated = await createFileStore({ dir, keys: new KeyRing(keyB, [keyA]), log: silentLogger });
    expect((await rotated.get(sid('k1')))?.tokens?.accessToken).toBe(`${ACCESS}-k1`);
    await rotated.close();
    const file = readdirSync(dir).find((f) => f.startsWith('c_'))!;
    expect(KeyRing.keyIdOf(JSON.parse(readFileSync(join(dir, file), 'utf8')).sealed)).toBe(keyB.id);
    // Re-sealed: the old key is no longer needed.
    const onlyNew = await createFileStore({ dir, keys: new KeyRing(keyB), log: silentLogger });
    expect((await onlyNew.get(sid('k1')))?.status).toBe('active');
    await onlyNew.close();

    const prefix = 'rot:';
    const a = await createRedisStore({ url: redis.url, keys: new KeyRing(keyA), log: silentLogger, keyPrefix: prefix });
    await a.create(connection('k2'));
    await a.close();
    const b = await createRedisStore({ url: redis.url, keys: new KeyRing(keyB, [keyA]), log: silentLogger, keyPrefix: prefix });
    const read = (await b.get(sid('k2')))!;
    expect(read.tokens?.refreshToken).toBe(`${REFRESH}-k2`);
    await b.compareAndSet({ ...read, updatedAt: 2 }, read.revision!);
    expect(KeyRing.keyIdOf((await redis.client().hget(`${prefix}conn:${sid('k2')}`, 'data'))!)).toBe(keyB.id);
    await b.close();
  });

  it('refuses to start on records of a key that is not configured, naming what to add; never drops them', async () => {
    const dir = join(tempDir(), 'tokens');
    const a = await createFileStore({ dir, keys: new KeyRing(keyA), log: silentLogger });
    await a.create(connection('lost'));
    await a.close();
    await expect(createFileStore({ dir, keys: new KeyRing(keyB), log: silentLogger })).rejects.toThrow(/^store: .*previousKeys/);
    expect(readdirSync(dir).filter((f) => f.startsWith('c_'))).toHaveLength(1);
  });

  it('a sealed record does not open under another connection id, nor when tampered with', async () => {
    const ring = new KeyRing(keyA);
    const sealed = await ring.seal('{"x":1}', 'bankgate:connection:a');
    expect(await ring.open(sealed, 'bankgate:connection:a')).toBe('{"x":1}');
    await expect(ring.open(sealed, 'bankgate:connection:b')).rejects.toThrow(/failed authentication/);
    const parts = sealed.split('.');
    parts[3] = Buffer.from('tampered').toString('base64url');
    await expect(ring.open(parts.join('.'), 'bankgate:connection:a')).rejects.toThrow(/failed authentication/);
  });
});

describe('file store durability', () => {
  it('survives reopening; a torn temp file from a crash is ignored and cleaned; one process per directory', async () => {
    const dir = join(tempDir(), 'tokens');
    const store = await createFileStore({ dir, keys: new KeyRing(keyA), log: silentLogger });
    await store.create(connection('d1'));
    await expect(createFileStore({ dir, keys: new KeyRing(keyA), log: silentLogger })).rejects.toThrow(/in use by process/);
    await store.close();
    writeFileSync(join(dir, '.tmp-crashed'), '{"revision":9,"seal');
    const reopened = await createFileStore({ dir, keys: new KeyRing(keyA), log: silentLogger });
    expect((await reopened.get(sid('d1')))?.revision).toBe(1);
    expect(readdirSync(dir).some((f) => f.startsWith('.tmp-'))).toBe(false);
    await reopened.close();
  });
});

describe('file store: an authenticated generation (issue 15, finding 14)', () => {
  const fileOf = (dir: string) => join(dir, readdirSync(dir).find((f) => f.startsWith('c_'))!);
  const capture = () => {
    const lines: string[] = [];
    return { lines, log: createJsonLogger((line) => lines.push(line)) };
  };

  it('a record rolled back into the directory (an older file copied over the current one) is refused at start, and reported', async () => {
    const dir = join(tempDir(), 'tokens');
    const store = await createFileStore({ dir, keys: new KeyRing(keyA), log: silentLogger });
    const first = (await store.create(connection('rb', { tokens: { accessToken: 'old-at', refreshToken: 'old-rt', expiresAt: 1, expiresIn: 60 } })))!;
    const oldFile = readFileSync(fileOf(dir));
    await store.compareAndSet({ ...first, tokens: { accessToken: 'new-at', refreshToken: 'new-rt', expiresAt: 2, expiresIn: 60 } }, first.revision!);
    await store.close();
    writeFileSync(fileOf(dir), oldFile);

    const { lines, log } = capture();
    const reopened = await createFileStore({ dir, keys: new KeyRing(keyA), log });
    expect(await reopened.get(sid('rb'))).toBeUndefined();
    expect(lines.filter((l) => l.includes('store.record_rolled_back'))).toHaveLength(1);
    expect(lines.join('\n')).not.toContain('old-rt');
    await reopened.close();
    // Kept on disk for an operator; a new consent under the same id is not taken for a rollback afterwards.
    expect(readFileSync(fileOf(dir)).equals(oldFile)).toBe(true);
  });

  it('the revision in clear is authenticated: a record whose revision was edited does not open', async () => {
    const dir = join(tempDir(), 'tokens');
    const store = await createFileStore({ dir, keys: new KeyRing(keyA), log: silentLogger });
    await store.create(connection('forged'));
    await store.close();
    const record = JSON.parse(readFileSync(fileOf(dir), 'utf8')) as { revision: number; generation: number };
    writeFileSync(fileOf(dir), JSON.stringify({ ...record, revision: 99 }));
    const { lines, log } = capture();
    const reopened = await createFileStore({ dir, keys: new KeyRing(keyA), log });
    expect(await reopened.get(sid('forged'))).toBeUndefined();
    expect(lines.some((l) => l.includes('store.record_unreadable') && l.includes('failed authentication'))).toBe(true);
    await reopened.close();
  });

  it('a deleted record copied back is refused; a new connection under that id later is not', async () => {
    const dir = join(tempDir(), 'tokens');
    const store = await createFileStore({ dir, keys: new KeyRing(keyA), log: silentLogger });
    await store.create(connection('revoked'));
    const copy = readFileSync(fileOf(dir));
    const name = fileOf(dir);
    await store.delete(sid('revoked'));
    await store.close();
    writeFileSync(name, copy);
    const again = await createFileStore({ dir, keys: new KeyRing(keyA), log: silentLogger });
    expect(await again.get(sid('revoked'))).toBeUndefined();
    expect((await again.create(connection('revoked', { scopes: ['fresh'] })))?.revision).toBe(1);
    await again.close();
    const third = await createFileStore({ dir, keys: new KeyRing(keyA), log: silentLogger });
    expect((await third.get(sid('revoked')))?.scopes).toEqual(['fresh']);
    await third.close();
  });

  it('records of the format before (no generation) are taken once and upgraded; after that such a record is refused', async () => {
    const dir = join(tempDir(), 'tokens');
    const ring = new KeyRing(keyA);
    const { sealConnection } = await import('../../plugin/store/sealed-connection.js');
    const legacy = async (id: string) => `${JSON.stringify({ v: 1, ...(await sealConnection(ring, connection(id), 3)) })}\n`;
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
    const fileName = (id: string) => `c_${Buffer.from(sid(id)).toString('base64url')}.json`;
    writeFileSync(join(dir, fileName('legacy')), await legacy('legacy'));
    const store = await createFileStore({ dir, keys: ring, log: silentLogger });
    expect((await store.get(sid('legacy')))?.revision).toBe(3);
    await store.close();
    expect(JSON.parse(readFileSync(join(dir, fileName('legacy')), 'utf8'))).toMatchObject({ v: 2, revision: 3 });
    writeFileSync(join(dir, fileName('late')), await legacy('late'));
    const { lines, log } = capture();
    const again = await createFileStore({ dir, keys: ring, log });
    expect((await again.get(sid('legacy')))?.revision).toBe(3);
    expect(await again.get(sid('late'))).toBeUndefined();
    expect(lines.some((l) => l.includes('store.record_rolled_back'))).toBe(true);
    await again.close();
  });
});
