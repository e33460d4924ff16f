#!/usr/bin/env tsx
/**
 * `npm run bench:token-store`: what the token store costs per bank call and per stored connection, written
 * to bench/results/token-store.json.
 *
 *   lookup/file       get() of a connection from the default store (served from memory after start)
 *   lookup/redis      get() from a real redis-server on loopback (HMGET + AES-256-GCM open), one at a time
 *                     and 50 in flight
 *   memory/file       process heap per 100,000 stored connections (the file store keeps them all in memory)
 *   memory/redis      Redis used_memory per 100,000 stored connections (sealed records)
 *
 * Usage: npm run bench:token-store [-- --connections 100000 --lookups 20000]
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { silentLogger } from '../plugin/log.js';
import { createFileStore } from '../plugin/adapter/node/store/file-store.js';
import { createRedisStore } from '../plugin/adapter/node/store/redis-store.js';
import { storageIdOf, type Connection } from '../plugin/store/connection.js';
import { KeyRing, parseStoreKey } from '../plugin/store/key-ring.js';
import { createLocalStore } from '../plugin/store/local-store.js';
import { startRedis } from '../test/vault/redis-server.js';

const { values } = parseArgs({ options: { connections: { type: 'string', default: '100000' }, lookups: { type: 'string', default: '20000' } } });
const N = Number(values.connections);
const LOOKUPS = Number(values.lookups);
const keys = new KeyRing(await parseStoreKey(Buffer.alloc(32, 3).toString('base64'), 'bench'));

/** A realistic connection: SG-sized opaque tokens, scopes, subject. */
function connection(i: number): Connection & { revision: number } {
  const token = (prefix: string) => `${prefix}${i.toString(36).padStart(8, '0')}${'x'.repeat(35)}`;
  return {
    id: `conn_${i.toString(36).padStart(16, '0')}`,
    bank: 'sg',
    owner: 'key:treasury-app',
    status: 'active',
    scopes: ['aisp', 'cbpii'],
    createdAt: Date.now(),
    updatedAt: Date.now(),
    subject: `sg-psu-${i}`,
    tokens: { accessToken: token('at'), refreshToken: token('rt'), expiresAt: Date.now() + 599_000, expiresIn: 599, scope: 'openid aisp cbpii', certificateThumbprint: 'q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0x1c' },
    revision: 1,
  };
}

async function timeLookups(get: (id: string) => Promise<unknown>, ids: string[], inFlight: number): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < LOOKUPS) await get(ids[next++ % ids.length]!);
    }),
  );
  return Number(process.hrtime.bigint() - started) / 1000 / LOOKUPS; // µs per lookup
}

const results: Record<string, number | string> = { connections: N, lookups: LOOKUPS, node: process.version };

// File store: lookups (the store as the gateway opens it), then the memory of N connections in its map.
const dir = mkdtempSync(join(tmpdir(), 'bankgate-bench-'));
try {
  const file = await createFileStore({ dir: join(dir, 'tokens'), keys, log: silentLogger });
  const sample = Array.from({ length: 1000 }, (_, i) => connection(i));
  for (const c of sample) await file.put(c);
  const ids = sample.map(storageIdOf);
  await timeLookups((id) => file.get(id), ids, 1);
  results['lookup/file µs'] = +(await timeLookups((id) => file.get(id), ids, 1)).toFixed(3);
  await file.close();

  global.gc?.();
  const before = process.memoryUsage().heapUsed;
  const local = createLocalStore({ initial: Array.from({ length: N }, (_, i) => connection(i)) });
  global.gc?.();
  const after = process.memoryUsage().heapUsed;
  results['memory/file MiB per 100k'] = +(((after - before) / N) * 100_000 / 1024 / 1024).toFixed(1);
  results['memory/file measured with --expose-gc'] = global.gc ? 'yes' : 'no (approximate)';
  void local;
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// Redis store.
const redis = await startRedis();
try {
  const store = await createRedisStore({ url: redis.url, keys, log: silentLogger });
  const client = redis.client();
  const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await client.info('memory'))![1]);
  const before = await usedMemory();
  let next = 0;
  await Promise.all(Array.from({ length: 200 }, async () => {
    while (next < N) await store.put(connection(next++));
  }));
  const after = await usedMemory();
  results['memory/redis MiB per 100k'] = +(((after - before) / N) * 100_000 / 1024 / 1024).toFixed(1);
  const ids = Array.from({ length: 1000 }, (_, i) => storageIdOf(connection(i)));
  await timeLookups((id) => store.get(id), ids, 1);
  results['lookup/redis µs (1 in flight)'] = +(await timeLookups((id) => store.get(id), ids, 1)).toFixed(1);
  results['lookup/redis µs per lookup (50 in flight)'] = +(await timeLookups((id) => store.get(id), ids, 50)).toFixed(1);
  await store.close();
} finally {
  await redis.stop();
}

console.table(results);
const out = resolve(dirname(fileURLToPath(import.meta.url)), 'results', 'token-store.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
console.log(`written to ${out}`);
