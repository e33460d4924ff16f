import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../plugin/log.js';
import type { Connection, ConnectionStore } from '../../plugin/store/connection.js';
import { createFileStore } from '../../plugin/adapter/node/store/file-store.js';
import { KeyRing, parseStoreKey } from '../../plugin/store/key-ring.js';
import { createMemoryStore } from '../../plugin/store/memory-store.js';
import { createRedisStore } from '../../plugin/adapter/node/store/redis-store.js';
import { startRedis, type RedisServer } from './redis-server.js';

const keyA = await parseStoreKey(Buffer.alloc(32, 1).toString('base64'), 'a');
const keyB = await parseStoreKey(Buffer.alloc(32, 2).toString('hex'), 'b');
const ACCESS = 'AT-plaintext-access-token-0123456789';
const REFRESH = 'RT-plaintext-refresh-token-0123456789';

function connection(id: string, extra: Partial<Connection> = {}): Connection {
  return {
    id,
    bank: 'sg',
    owner: 'dev',
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
    const first = await store.put(connection('c1'));
    expect(first.revision).toBe(1);
    expect(await store.get('c1')).toEqual(first);
    const second = await store.compareAndSet({ ...first, status: 'reconsent_required' }, 1);
    expect(second?.revision).toBe(2);
    expect(await store.compareAndSet({ ...first, status: 'active' }, 1)).toBeUndefined();
    expect((await store.get('c1'))?.status).toBe('reconsent_required');
    await store.close();
  });

  it('never writes a deleted connection back (compare-and-set on a gone row)', async () => {
    const store = await open();
    const stored = await store.put(connection('gone'));
    await store.delete('gone');
    expect(await store.compareAndSet(stored, stored.revision!)).toBeUndefined();
    expect(await store.get('gone')).toBeUndefined();
    await store.close();
  });

  it('finds a pending consent by its state, and forgets the index when the consent ends', async () => {
    const store = await open();
    const pending = { state: 'st-1', codeVerifier: 'v', redirectUri: 'http://127.0.0.1/callback/sg', expiresAt: Date.now() + 60_000 };
    const stored = await store.put(connection('p1', { status: 'pending', tokens: undefined, pending }));
    expect((await store.findByState('st-1'))?.id).toBe('p1');
    await store.compareAndSet({ ...stored, pending: undefined, status: 'active' }, stored.revision!);
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
});

describe('encryption at rest', () => {
  it('the file store holds no token in plaintext, and files are 0600', async () => {
    const dir = join(tempDir(), 'tokens');
    const store = await createFileStore({ dir, keys: new KeyRing(keyA), log: silentLogger });
    await store.put(connection('f1'));
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
    await store.put(connection('r1', { pending: { state: 'st-r1', codeVerifier: 'verifier-secret-0123', redirectUri: 'x', expiresAt: Date.now() + 60_000 } }));
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
    await before.put(connection('k1'));
    await before.close();
    const rotated = await createFileStore({ dir, keys: new KeyRing(keyB, [keyA]), log: silentLogger });
    expect((await rotated.get('k1'))?.tokens?.accessToken).toBe(`${ACCESS}-k1`);
    await rotated.close();
    const file = readdirSync(dir).find((f) => f.startsWith('c_'))!;
    expect(KeyRing.keyIdOf(JSON.parse(readFileSync(join(dir, file), 'utf8')).sealed)).toBe(keyB.id);
    // Re-sealed: the old key is no longer needed.
    const onlyNew = await createFileStore({ dir, keys: new KeyRing(keyB), log: silentLogger });
    expect((await onlyNew.get('k1'))?.status).toBe('active');
    await onlyNew.close();

    const prefix = 'rot:';
    const a = await createRedisStore({ url: redis.url, keys: new KeyRing(keyA), log: silentLogger, keyPrefix: prefix });
    await a.put(connection('k2'));
    await a.close();
    const b = await createRedisStore({ url: redis.url, keys: new KeyRing(keyB, [keyA]), log: silentLogger, keyPrefix: prefix });
    const read = (await b.get('k2'))!;
    expect(read.tokens?.refreshToken).toBe(`${REFRESH}-k2`);
    await b.compareAndSet({ ...read, updatedAt: 2 }, read.revision!);
    expect(KeyRing.keyIdOf((await redis.client().hget(`${prefix}conn:k2`, 'data'))!)).toBe(keyB.id);
    await b.close();
  });

  it('refuses to start on records of a key that is not configured, naming what to add; never drops them', async () => {
    const dir = join(tempDir(), 'tokens');
    const a = await createFileStore({ dir, keys: new KeyRing(keyA), log: silentLogger });
    await a.put(connection('lost?'));
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
    await store.put(connection('d1'));
    await expect(createFileStore({ dir, keys: new KeyRing(keyA), log: silentLogger })).rejects.toThrow(/in use by process/);
    await store.close();
    writeFileSync(join(dir, '.tmp-crashed'), '{"revision":9,"seal');
    const reopened = await createFileStore({ dir, keys: new KeyRing(keyA), log: silentLogger });
    expect((await reopened.get('d1'))?.revision).toBe(1);
    expect(readdirSync(dir).some((f) => f.startsWith('.tmp-'))).toBe(false);
    await reopened.close();
  });
});
