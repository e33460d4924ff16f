import { describe, expect, it } from 'vitest';
import { KeyRing, parseStoreKey } from './key-ring.js';

describe('KeyRing', () => {
  const a = parseStoreKey(Buffer.alloc(32, 1).toString('base64'), 'store.encryption.key');
  const b = parseStoreKey('02'.repeat(32), 'store.encryption.key');

  it('seals with the current key and opens with any key of the ring', () => {
    const sealed = new KeyRing(a).seal('secret token', 'aad');
    expect(sealed.startsWith(`v1.${a.id}.`)).toBe(true);
    expect(sealed).not.toContain('secret');
    expect(new KeyRing(b, [a]).open(sealed, 'aad')).toBe('secret token');
    expect(KeyRing.keyIdOf(new KeyRing(b, [a]).seal('x', 'aad'))).toBe(b.id);
  });

  it('names the missing key id and the setting to add it to', () => {
    const sealed = new KeyRing(a).seal('x', 'aad');
    expect(() => new KeyRing(b).open(sealed, 'aad')).toThrow(new RegExp(`key id ${a.id}.*previousKeys`));
  });

  it('rejects keys that are not 32 bytes, naming the path', () => {
    expect(() => parseStoreKey('too short', 'store.encryption.key')).toThrow(/^store\.encryption\.key: an encryption key must be 32 bytes/);
    expect(a.id).toMatch(/^[0-9a-f]{16}$/);
    expect(a.id).not.toBe(b.id);
  });
});
