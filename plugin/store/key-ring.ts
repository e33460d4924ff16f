import { fromBase64, fromHex, toBase64, toBase64Url, toHex } from '../crypto/base64.js';
import { sha256 } from '../crypto/digest.js';
import { randomBytes } from '../crypto/random.js';
import { BankgateError } from '../errors/bankgate-error.js';

/** One AES-256 key and its id: a fingerprint of the key, so that ids can never be mixed up by hand. */
export interface StoreKey {
  readonly id: string;
  readonly key: Uint8Array;
}

const FORMAT = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Parses a 32-byte key written as base64, base64url or 64 hex digits; the error says how to make one. */
export async function parseStoreKey(text: string, path: string): Promise<StoreKey> {
  const trimmed = text.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(trimmed) ? fromHex(trimmed) : fromBase64(trimmed);
  if (bytes?.length !== 32) {
    throw new Error(`${path}: an encryption key must be 32 bytes, as base64 or 64 hex digits (make one: openssl rand -base64 32)`);
  }
  return { id: await keyId(bytes), key: bytes };
}

/** A new random key, base64. */
export function generateStoreKey(): string {
  return toBase64(randomBytes(32));
}

async function keyId(key: Uint8Array): Promise<string> {
  const label = encoder.encode('bankgate store key id\0');
  const input = new Uint8Array(label.length + key.length);
  input.set(label, 0);
  input.set(key, label.length);
  return toHex(await sha256(input)).slice(0, 16);
}

/**
 * AES-256-GCM at rest (WebCrypto) with key rotation: new writes use the current key; records sealed under any
 * key of the ring still open. A sealed value is `v1.<keyId>.<iv>.<ciphertext>.<tag>` (base64url parts); the
 * additional authenticated data binds it to its record (the connection id), so a value copied onto another
 * record does not open. The format is what the node:crypto implementation wrote: its records still open.
 */
export class KeyRing {
  readonly current: StoreKey;
  readonly #byId: ReadonlyMap<string, Uint8Array>;
  /** Imported once per key, on first use. */
  readonly #imported = new Map<string, Promise<CryptoKey>>();

  constructor(current: StoreKey, previous: readonly StoreKey[] = []) {
    this.current = current;
    this.#byId = new Map([...previous, current].map((k) => [k.id, k.key]));
  }

  get ids(): readonly string[] {
    return [...this.#byId.keys()];
  }

  #cryptoKey(id: string, raw: Uint8Array): Promise<CryptoKey> {
    let key = this.#imported.get(id);
    if (!key) {
      key = crypto.subtle.importKey('raw', raw as Uint8Array<ArrayBuffer>, 'AES-GCM', false, ['encrypt', 'decrypt']);
      this.#imported.set(id, key);
    }
    return key;
  }

  async seal(plaintext: string, aad: string): Promise<string> {
    const iv = randomBytes(IV_BYTES);
    const key = await this.#cryptoKey(this.current.id, this.current.key);
    // WebCrypto appends the 16-byte tag to the ciphertext; the format keeps them apart.
    const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: iv as Uint8Array<ArrayBuffer>, additionalData: encoder.encode(aad), tagLength: 128 }, key, encoder.encode(plaintext)));
    const ciphertext = sealed.subarray(0, sealed.length - TAG_BYTES);
    const tag = sealed.subarray(sealed.length - TAG_BYTES);
    return [FORMAT, this.current.id, toBase64Url(iv), toBase64Url(ciphertext), toBase64Url(tag)].join('.');
  }

  /** The key id a sealed value names (to re-seal records of retired keys). */
  static keyIdOf(sealed: string): string | undefined {
    const parts = sealed.split('.');
    return parts.length === 5 && parts[0] === FORMAT ? parts[1] : undefined;
  }

  async open(sealed: string, aad: string): Promise<string> {
    const parts = sealed.split('.');
    if (parts.length !== 5 || parts[0] !== FORMAT) throw sealError('record_unreadable', 'a stored record is not in the sealed v1 format');
    const [, id, ivText, ciphertextText, tagText] = parts as [string, string, string, string, string];
    const raw = this.#byId.get(id);
    if (!raw) {
      throw sealError('unknown_key', `a stored record was sealed with key id ${id}, which is not configured: add that key to store.encryption.previousKeys (or BANKGATE_STORE_PREVIOUS_KEYS)`);
    }
    const unreadable = (cause?: unknown) => sealError('record_unreadable', `a stored record sealed with key id ${id} failed authentication (tampered, or stored under another id)`, cause);
    const iv = fromBase64(ivText);
    const ciphertext = fromBase64(ciphertextText);
    const tag = fromBase64(tagText);
    if (!iv || iv.length === 0 || !ciphertext || tag?.length !== TAG_BYTES) throw unreadable();
    const joined = new Uint8Array(ciphertext.length + TAG_BYTES);
    joined.set(ciphertext, 0);
    joined.set(tag, ciphertext.length);
    try {
      const key = await this.#cryptoKey(id, raw);
      const plaintext = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: iv as Uint8Array<ArrayBuffer>, additionalData: encoder.encode(aad), tagLength: 128 }, key, joined);
      return decoder.decode(plaintext);
    } catch (cause) {
      throw unreadable(cause);
    }
  }
}

export type SealErrorReason = 'unknown_key' | 'record_unreadable';

function sealError(reason: SealErrorReason, detail: string, cause?: unknown): BankgateError {
  return new BankgateError('store_unavailable', { status: 503, detail, cause, extra: { reason } });
}
