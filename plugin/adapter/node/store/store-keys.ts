import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SecretSource } from '../../../config/secret-ref.js';
import type { Logger } from '../../../log.js';
import type { StoreConfig } from '../../../store/config-schema.js';
import { generateStoreKey, KeyRing, parseStoreKey } from '../../../store/key-ring.js';
import { configuredStoreKeys } from '../../../store/store-keys.js';

export interface StoreKeyOptions {
  /** The environment (`BANKGATE_STORE_KEY`) and the reader of `store.encryption` references. */
  readonly source: SecretSource;
  readonly log: Logger;
  /** For a file store: where a development key is generated when none is configured. */
  readonly devKeyFile?: string;
}

/**
 * The key ring of a persistent store on Node: the configured one (`store.encryption`, `BANKGATE_STORE_KEY`:
 * see `configuredStoreKeys`), or, for a file store only, a key generated once into `<dir>.key` (0600) with a
 * loud warning: `npm start` works out of the box, and the warning says what to set for production. A
 * generated key stays readable as a previous key after a real one is configured. Throws messages that start
 * with the config path to fix.
 */
export async function resolveStoreKeys(config: StoreConfig, options: StoreKeyOptions): Promise<KeyRing> {
  const { log, devKeyFile } = options;
  const devKey = devKeyFile && existsSync(devKeyFile) ? await parseStoreKey(readFileSync(devKeyFile, 'utf8'), `store: generated key file ${devKeyFile}`) : undefined;
  const configured = await configuredStoreKeys(config, options.source, devKey);
  if (configured) return configured;
  if (!devKeyFile) {
    throw new Error(
      'store.encryption.key: a redis:// store is shared by every replica and needs the same key in each: ' +
        "set BANKGATE_STORE_KEY or store.encryption.key ({ env: '…' } or { file: '…' }); make one with: openssl rand -base64 32",
    );
  }
  if (devKey) return new KeyRing(devKey);
  mkdirSync(dirname(devKeyFile), { recursive: true, mode: 0o700 });
  writeFileSync(devKeyFile, `${generateStoreKey()}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(devKeyFile, 0o600);
  log.warn('store.key_generated', {
    file: devKeyFile,
    detail:
      'NO STORE ENCRYPTION KEY CONFIGURED: generated a development key for the token store. Connections are ' +
      'encrypted with it and unreadable without it. For production set BANKGATE_STORE_KEY (openssl rand -base64 32) ' +
      'or store.encryption.key; this key then keeps working as a previous key.',
  });
  return new KeyRing(await parseStoreKey(readFileSync(devKeyFile, 'utf8'), `store: generated key file ${devKeyFile}`));
}
