import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../log.js';
import { readSecretRef } from '../config/secret-ref.js';
import type { StoreConfig } from './config-schema.js';
import { generateStoreKey, KeyRing, parseStoreKey, type StoreKey } from './key-ring.js';

export interface StoreKeyOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
  /** For a file store: where a development key is generated when none is configured. */
  readonly devKeyFile?: string;
}

/**
 * The key ring of a persistent store, from (in order) `store.encryption`, `BANKGATE_STORE_KEY` (+
 * `BANKGATE_STORE_PREVIOUS_KEYS`, comma-separated), or, for a file store only, a key generated once into
 * `<dir>.key` (0600) with a loud warning: `npm start` works out of the box, and the warning says what to
 * set for production. A generated key stays readable as a previous key after a real one is configured.
 * Throws messages that start with the config path to fix.
 */
export function resolveStoreKeys(config: StoreConfig, options: StoreKeyOptions): KeyRing {
  const { env, log, devKeyFile } = options;
  const previous: StoreKey[] = [];
  const devKey = devKeyFile && existsSync(devKeyFile) ? parseStoreKey(readFileSync(devKeyFile, 'utf8'), `store: generated key file ${devKeyFile}`) : undefined;
  if (config.encryption) {
    const current = parseStoreKey(readSecretRef(config.encryption.key, 'store.encryption.key', env), 'store.encryption.key');
    config.encryption.previousKeys.forEach((ref, i) => {
      const at = `store.encryption.previousKeys.${i}`;
      previous.push(parseStoreKey(readSecretRef(ref, at, env), at));
    });
    return new KeyRing(current, devKey ? [...previous, devKey] : previous);
  }
  if (env.BANKGATE_STORE_KEY) {
    const current = parseStoreKey(env.BANKGATE_STORE_KEY, 'store: BANKGATE_STORE_KEY');
    (env.BANKGATE_STORE_PREVIOUS_KEYS ?? '')
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean)
      .forEach((k, i) => previous.push(parseStoreKey(k, `store: BANKGATE_STORE_PREVIOUS_KEYS item ${i + 1}`)));
    return new KeyRing(current, devKey ? [...previous, devKey] : previous);
  }
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
  return new KeyRing(parseStoreKey(readFileSync(devKeyFile, 'utf8'), `store: generated key file ${devKeyFile}`));
}
