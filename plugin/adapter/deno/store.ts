/**
 * `denoRuntime().store`: the store `store.url` (or `BANKGATE_STORE`) names on Deno. `deno-kv:<path>` (the
 * default, `deno-kv:./.bankgate/tokens.kv`; `deno-kv:` alone opens the platform's database, as on Deno
 * Deploy; `deno-kv::memory:` one that lives with the process), `redis://` (Node's Redis store, which Deno runs)
 * or `memory`. Deno KV needs `--unstable-kv`.
 */
import { ConfigError } from '../../config/resolve-config.js';
import type { Logger } from '../../log.js';
import type { RuntimeStoreContext } from '../../runtime.js';
import type { StoreConfig } from '../../store/config-schema.js';
import type { ConnectionStore } from '../../store/connection.js';
import { generateStoreKey, KeyRing, parseStoreKey } from '../../store/key-ring.js';
import { createMemoryStore } from '../../store/memory-store.js';
import { configuredStoreKeys } from '../../store/store-keys.js';
import { deno, type DenoNamespace } from './deno-api.js';
import { createDenoKvStore } from './kv-store.js';

export const DEFAULT_DENO_STORE_URL = 'deno-kv:./.bankgate/tokens.kv';

/**
 * Opens the store; problems are thrown as a `ConfigError` whose lines start with `store`.
 * @example const store = await createDenoStore({ url: 'deno-kv:./tokens.kv', lockTtlSeconds: 30 }, { source: denoRuntime(), log });
 */
export async function createDenoStore(config: StoreConfig, context: RuntimeStoreContext): Promise<ConnectionStore> {
  const url = config.url ?? (context.source.env.BANKGATE_STORE || undefined) ?? DEFAULT_DENO_STORE_URL;
  if (url === 'memory') return createMemoryStore();
  if (/^rediss?:\/\/[^/]+/.test(url)) {
    // Where a team has Redis: Node's Redis store (ioredis over Deno's node:net), loaded only when named.
    const { createStore } = await import('../node/store/create-store.js');
    return createStore({ ...config, url }, { source: context.source, log: context.log });
  }
  if (!url.startsWith('deno-kv:')) {
    throw new ConfigError([`store: ${url.split(':')[0]}: is not a store the deno runtime opens; use deno-kv:<path> (Deno KV, compare-and-set; deno-kv: alone on Deno Deploy), redis://host:port/db or memory`]);
  }
  const Deno = deno();
  if (typeof Deno.openKv !== 'function') {
    throw new ConfigError(['store: deno-kv: needs Deno KV, which this Deno runs only with --unstable-kv (deno run --unstable-kv …, or "unstable": ["kv"] in deno.json)']);
  }
  const path = url.slice('deno-kv:'.length);
  let keys: KeyRing;
  try {
    keys = await denoStoreKeys(config, context, path, Deno);
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('store')) throw new ConfigError([error.message]);
    throw error;
  }
  let kv;
  try {
    kv = await Deno.openKv(path === '' ? undefined : path);
  } catch (error) {
    throw new ConfigError([`store: deno-kv:${path} cannot be opened (${(error as Error).message}); check the path and that its directory exists`]);
  }
  context.log.info('store.opened', { store: `deno-kv:${path}`, keyId: keys.current.id });
  return createDenoKvStore({ kv, keys, log: context.log, ownsKv: true });
}

/**
 * The configured key ring, or for a local KV file only, a development key generated once into `<path>.key`
 * (0600) with the same loud warning as Node's file store. A shared database (`deno-kv:` on Deploy) refuses
 * to start without a configured key.
 */
async function denoStoreKeys(config: StoreConfig, context: RuntimeStoreContext, path: string, Deno: DenoNamespace): Promise<KeyRing> {
  const keyFile = path === '' || path === ':memory:' ? undefined : `${path}.key`;
  const existing = keyFile ? readText(Deno, keyFile) : undefined;
  const devKey = existing ? await parseStoreKey(existing, `store: generated key file ${keyFile}`) : undefined;
  const configured = await configuredStoreKeys(config, context.source, devKey);
  if (configured) return configured;
  if (devKey) return new KeyRing(devKey);
  if (path === ':memory:') return new KeyRing(await parseStoreKey(generateStoreKey(), 'store'));
  if (!keyFile) {
    throw new Error("store.encryption.key: a shared Deno KV database needs the same key in every isolate: set BANKGATE_STORE_KEY or store.encryption.key ({ env: '…' }); make one with: openssl rand -base64 32");
  }
  const text = `${generateStoreKey()}\n`;
  const dir = keyFile.includes('/') ? keyFile.slice(0, keyFile.lastIndexOf('/')) : '';
  if (dir) Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  Deno.writeTextFileSync(keyFile, text, { mode: 0o600, createNew: true });
  warnGenerated(context.log, keyFile);
  return new KeyRing(await parseStoreKey(text, `store: generated key file ${keyFile}`));
}

function readText(Deno: DenoNamespace, file: string): string | undefined {
  try {
    return Deno.readTextFileSync(file);
  } catch (error) {
    if ((error as Error).name === 'NotFound') return undefined;
    throw new Error(`store: generated key file ${file} unreadable (${(error as Error).name})`);
  }
}

function warnGenerated(log: Logger, file: string): void {
  log.warn('store.key_generated', {
    file,
    detail:
      'NO STORE ENCRYPTION KEY CONFIGURED: generated a development key for the token store. Connections are ' +
      'encrypted with it and unreadable without it. For production set BANKGATE_STORE_KEY (openssl rand -base64 32) ' +
      'or store.encryption.key; this key then keeps working as a previous key.',
  });
}
