/** Store selection and key configuration: every problem names its config path and the fix. */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../plugin/config/resolve-config.js';
import { configSchema } from '../../plugin/config/schema.js';
import { createJsonLogger } from '../../plugin/adapter/node/log.js';
import { silentLogger } from '../../plugin/log.js';
import { STORE_FORMS, storeSchema } from '../../plugin/store/config-schema.js';
import { nodeRuntime } from '../../plugin/adapter/node/runtime.js';
import { createStore, storeUrlOf } from '../../plugin/adapter/node/store/create-store.js';

const dirs: string[] = [];
const temp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'bankgate-store-config-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

async function problemsOf(store: unknown, env: NodeJS.ProcessEnv = {}): Promise<readonly string[]> {
  try {
    const opened = await createStore(storeSchema.parse(store), { source: nodeRuntime({ env }), log: silentLogger });
    await opened.close();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('store config', () => {
  it('schema errors name store.*', () => {
    const result = configSchema.safeParse({ store: { url: 'postgres://x', lockTtlSeconds: 1 }, banks: {} });
    const paths = result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(paths).toContain(`store.url: must be ${STORE_FORMS}`);
    expect(paths.some((p) => p.startsWith('store.lockTtlSeconds:'))).toBe(true);
  });

  it('defaults to the persistent file store; BANKGATE_STORE selects another; the config wins over the env', () => {
    expect(storeUrlOf(storeSchema.parse(undefined), {})).toBe('file:./.bankgate/tokens');
    expect(storeUrlOf(storeSchema.parse(undefined), { BANKGATE_STORE: 'redis://r:6379/1' })).toBe('redis://r:6379/1');
    expect(storeUrlOf(storeSchema.parse('memory'), { BANKGATE_STORE: 'redis://r:6379/1' })).toBe('memory');
  });

  it('names the path of each key problem and never echoes a key or a URL password', async () => {
    expect(await problemsOf('redis://user:s3cret@127.0.0.1:1/0')).toEqual([expect.stringMatching(/^store\.encryption\.key: a redis:\/\/ store .*openssl rand -base64 32/)]);
    expect(await problemsOf({ url: 'redis://127.0.0.1:1/0', encryption: { key: { env: 'NOPE' } } })).toEqual(['store.encryption.key: environment variable NOPE is not set']);
    expect(await problemsOf({ url: 'memory', encryption: { key: { value: 'x' } } })).toEqual([]);
    const dir = temp();
    expect(await problemsOf({ url: `file:${dir}/t`, encryption: { key: { value: 'short' } } })).toEqual([expect.stringMatching(/^store\.encryption\.key: an encryption key must be 32 bytes/)]);
    expect(await problemsOf(`file:${dir}/t`, { BANKGATE_STORE_KEY: 'short' })).toEqual([expect.stringMatching(/^store: BANKGATE_STORE_KEY: an encryption key must be 32 bytes/)]);
    expect(await problemsOf(undefined, { BANKGATE_STORE: 'mysql://x' })).toEqual(['store: BANKGATE_STORE must be memory, file:<directory> or redis://host:port/db']);
  });

  it('a file store without a key generates one (0600, loud warning) and uses it again on the next start', async () => {
    const dir = temp();
    const lines: string[] = [];
    const log = createJsonLogger((line) => lines.push(line));
    const first = await createStore(storeSchema.parse(`file:${dir}/tokens`), { source: nodeRuntime({ env: {} }), log });
    await first.create({ id: 'c', bank: 'sg', owner: 'key:o', status: 'active', scopes: [], createdAt: 0, updatedAt: 0 });
    await first.close();
    const keyFile = join(dir, 'tokens.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(lines.filter((l) => l.includes('"level":"warn"') && l.includes('store.key_generated'))).toHaveLength(1);
    const key = readFileSync(keyFile, 'utf8');
    expect(lines.join('\n')).not.toContain(key.trim());
    const second = await createStore(storeSchema.parse(`file:${dir}/tokens`), { source: nodeRuntime({ env: {} }), log });
    expect((await second.get('key:o/c'))?.owner).toBe('key:o');
    await second.close();
    expect(readFileSync(keyFile, 'utf8')).toBe(key);
    expect(lines.filter((l) => l.includes('store.key_generated'))).toHaveLength(1);

    // Moving to a configured key keeps the generated one readable (as a previous key).
    const keyFromFile = join(dir, 'prod.key');
    writeFileSync(keyFromFile, Buffer.alloc(32, 9).toString('base64'));
    const third = await createStore(storeSchema.parse({ url: `file:${dir}/tokens`, encryption: { key: { file: keyFromFile } } }), { source: nodeRuntime({ env: {} }), log });
    expect((await third.get('key:o/c'))?.owner).toBe('key:o');
    await third.close();
  });
});
