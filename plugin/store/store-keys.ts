import { readSecretRef, type SecretSource } from '../config/secret-ref.js';
import type { StoreConfig } from './config-schema.js';
import { KeyRing, parseStoreKey, type StoreKey } from './key-ring.js';

/**
 * The key ring the config sets: `store.encryption` (key and previous keys, by reference), else
 * `BANKGATE_STORE_KEY` (+ `BANKGATE_STORE_PREVIOUS_KEYS`, comma-separated); undefined when neither is set
 * (a runtime's store decides then: Node's file store generates a development key, a shared store refuses).
 * `alsoReadable` (such a generated key) stays readable as a previous key once a real one is configured.
 * Throws messages that start with the config path to fix.
 */
export async function configuredStoreKeys(config: StoreConfig, source: SecretSource, alsoReadable?: StoreKey): Promise<KeyRing | undefined> {
  const previous: StoreKey[] = [];
  let current: StoreKey;
  if (config.encryption) {
    current = await parseStoreKey(readSecretRef(config.encryption.key, 'store.encryption.key', source), 'store.encryption.key');
    for (const [i, ref] of config.encryption.previousKeys.entries()) {
      const at = `store.encryption.previousKeys.${i}`;
      previous.push(await parseStoreKey(readSecretRef(ref, at, source), at));
    }
  } else if (source.env.BANKGATE_STORE_KEY) {
    current = await parseStoreKey(source.env.BANKGATE_STORE_KEY, 'store: BANKGATE_STORE_KEY');
    const listed = (source.env.BANKGATE_STORE_PREVIOUS_KEYS ?? '').split(',').map((k) => k.trim()).filter(Boolean);
    for (const [i, text] of listed.entries()) previous.push(await parseStoreKey(text, `store: BANKGATE_STORE_PREVIOUS_KEYS item ${i + 1}`));
  } else {
    return undefined;
  }
  return new KeyRing(current, alsoReadable ? [...previous, alsoReadable] : previous);
}
