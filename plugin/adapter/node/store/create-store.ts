import { resolve } from 'node:path';
import { ConfigError } from '../../../config/resolve-config.js';
import type { RuntimeEnv, SecretSource } from '../../../config/secret-ref.js';
import type { Logger } from '../../../log.js';
import { DEFAULT_STORE_URL, type StoreConfig } from '../../../store/config-schema.js';
import type { ConnectionStore } from '../../../store/connection.js';
import { createMemoryStore } from '../../../store/memory-store.js';
import { journaledStore } from '../../../store/journaled-store.js';
import { createFileJournal } from './file-journal.js';
import { createFileStore } from './file-store.js';
import { createRedisStore, describeRedis } from './redis-store.js';
import { resolveStoreKeys } from './store-keys.js';

export interface CreateStoreOptions {
  /** The environment (`BANKGATE_STORE`, `BANKGATE_STORE_KEY`) and the reader of `store.encryption` references. */
  readonly source: SecretSource;
  readonly log: Logger;
}

/** The store URL in force: the config's, else `BANKGATE_STORE`, else the persistent default. */
export function storeUrlOf(config: StoreConfig, env: RuntimeEnv): string {
  return config.url ?? (env.BANKGATE_STORE || undefined) ?? DEFAULT_STORE_URL;
}

/** The journal directory of a shared store (absolute), or undefined for `none`. */
export function journalDirOf(config: StoreConfig, env: RuntimeEnv): string | undefined {
  const dir = config.journal ?? (env.BANKGATE_JOURNAL || undefined) ?? DEFAULT_JOURNAL_DIR;
  return dir === 'none' ? undefined : resolve(dir);
}

const DEFAULT_JOURNAL_DIR = './.bankgate/journal';

/**
 * Opens the store the config (or `BANKGATE_STORE`) names: `memory`, `file:<dir>` (the default,
 * `file:./.bankgate/tokens`) or `redis://host:port/db`. A Redis store gets a local journal (`store.journal`,
 * `BANKGATE_JOURNAL`, default `./.bankgate/journal`; `none` for none) for refreshed token sets Redis could not take. Problems are thrown as a `ConfigError` whose lines
 * start with `store`.
 * @example const store = await createStore({ url: 'redis://127.0.0.1:6379/0', lockTtlSeconds: 30 }, { source: nodeRuntime(), log });
 */
export async function createStore(config: StoreConfig, options: CreateStoreOptions): Promise<ConnectionStore> {
  const url = storeUrlOf(config, options.source.env);
  try {
    if (url === 'memory') return createMemoryStore();
    if (url.startsWith('file:')) {
      const dir = resolve(url.slice('file:'.length));
      const keys = await resolveStoreKeys(config, { ...options, devKeyFile: `${dir}.key` });
      const store = await createFileStore({ dir: url.slice('file:'.length), keys, log: options.log });
      options.log.info('store.opened', { store: `file:${dir}`, keyId: keys.current.id });
      return store;
    }
    if (/^rediss?:\/\/[^/]+/.test(url)) {
      const keys = await resolveStoreKeys(config, options);
      const store = await createRedisStore({ url, keys, log: options.log });
      options.log.info('store.opened', { store: describeRedis(url), keyId: keys.current.id });
      const journalDir = journalDirOf(config, options.source.env);
      if (journalDir === undefined) return store;
      const journal = await createFileJournal({ dir: journalDir, keys, log: options.log });
      const journaled = await journaledStore(store, journal, { log: options.log });
      options.log.info('store.journal', { dir: journalDir });
      return journaled;
    }
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('store')) throw new ConfigError([error.message]);
    throw error;
  }
  throw new ConfigError(['store: BANKGATE_STORE must be memory, file:<directory> or redis://host:port/db']);
}
