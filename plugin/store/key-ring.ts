import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { BankgateError } from '../errors/bankgate-error.js';

/** One AES-256 key and its id: a fingerprint of the key, so that ids can never be mixed up by hand. */
export interface StoreKey {
  readonly id: string;
  readonly key: Buffer;
}

const FORMAT = 'v1';
const IV_BYTES = 12;

/** Parses a 32-byte key written as base64, base64url or 64 hex digits; the error says how to make one. */
export function parseStoreKey(text: string, path: string): StoreKey {
  const trimmed = text.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (bytes.length !== 32) {
    throw new Error(`${path}: an encryption key must be 32 bytes, as base64 or 64 hex digits (make one: openssl rand -base64 32)`);
  }
  return { id: keyId(bytes), key: bytes };
}

export function generateStoreKey(): string {
  return randomBytes(32).toString('base64');
}

function keyId(key: Buffer): string {
  return createHash('sha256').update('bankgate store key id\0').update(key).digest('hex').slice(0, 16);
}

/**
 * AES-256-GCM at rest with key rotation: new writes use the current key; records sealed under any key of
 * the ring still open. A sealed value is `v1.<keyId>.<iv>.<ciphertext>.<tag>` (base64url parts); the
 * additional authenticated data binds it to its record (the connection id), so a value copied onto another
 * record does not open.
 */
export class KeyRing {
  readonly current: StoreKey;
  readonly #byId: ReadonlyMap<string, Buffer>;

  constructor(current: StoreKey, previous: readonly StoreKey[] = []) {
    this.current = current;
    this.#byId = new Map([...previous, current].map((k) => [k.id, k.key]));
  }

  get ids(): readonly string[] {
    return [...this.#byId.keys()];
  }

  seal(plaintext: string, aad: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [FORMAT, this.current.id, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  /** The key id a sealed value names (to re-seal records of retired keys). */
  static keyIdOf(sealed: string): string | undefined {
    const parts = sealed.split('.');
    return parts.length === 5 && parts[0] === FORMAT ? parts[1] : undefined;
  }

  open(sealed: string, aad: string): string {
    const parts = sealed.split('.');
    if (parts.length !== 5 || parts[0] !== FORMAT) throw sealError('record_unreadable', 'a stored record is not in the sealed v1 format');
    const [, id, iv, ciphertext, tag] = parts as [string, string, string, string, string];
    const key = this.#byId.get(id);
    if (!key) {
      throw sealError('unknown_key', `a stored record was sealed with key id ${id}, which is not configured: add that key to store.encryption.previousKeys (or BANKGATE_STORE_PREVIOUS_KEYS)`);
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch (cause) {
      throw sealError('record_unreadable', `a stored record sealed with key id ${id} failed authentication (tampered, or stored under another id)`, cause);
    }
  }
}

export type SealErrorReason = 'unknown_key' | 'record_unreadable';

function sealError(reason: SealErrorReason, detail: string, cause?: unknown): BankgateError {
  return new BankgateError('store_unavailable', { status: 503, detail, cause, extra: { reason } });
}
