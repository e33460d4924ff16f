import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyRing, parseStoreKey } from './key-ring.js';
import { openConnection, sealConnection } from './sealed-connection.js';

/**
 * The sealing of the node:crypto KeyRing this WebCrypto one replaced, verbatim: records it wrote must still
 * open, and records written now must open with it (a rollback stays possible).
 */
const nodeCrypto = {
  keyId: (key: Buffer) => createHash('sha256').update('bankgate store key id\0').update(key).digest('hex').slice(0, 16),
  seal(key: Buffer, id: string, plaintext: string, aad: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', id, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  },
  open(key: Buffer, sealed: string, aad: string): string {
    const [, , iv, ciphertext, tag] = sealed.split('.') as [string, string, string, string, string];
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  },
};

describe('KeyRing', () => {
  const a = parseStoreKey(Buffer.alloc(32, 1).toString('base64'), 'store.encryption.key');
  const b = parseStoreKey('02'.repeat(32), 'store.encryption.key');

  it('seals with the current key and opens with any key of the ring', async () => {
    const [ka, kb] = await Promise.all([a, b]);
    const sealed = await new KeyRing(ka).seal('secret token', 'aad');
    expect(sealed.startsWith(`v1.${ka.id}.`)).toBe(true);
    expect(sealed).not.toContain('secret');
    expect(await new KeyRing(kb, [ka]).open(sealed, 'aad')).toBe('secret token');
    expect(KeyRing.keyIdOf(await new KeyRing(kb, [ka]).seal('x', 'aad'))).toBe(kb.id);
  });

  it('names the missing key id and the setting to add it to', async () => {
    const [ka, kb] = await Promise.all([a, b]);
    const sealed = await new KeyRing(ka).seal('x', 'aad');
    await expect(new KeyRing(kb).open(sealed, 'aad')).rejects.toThrow(new RegExp(`key id ${ka.id}.*previousKeys`));
    await expect(new KeyRing(kb).open(sealed, 'aad')).rejects.toMatchObject({ code: 'store_unavailable', extra: { reason: 'unknown_key' } });
  });

  it('refuses a record bound to another id, or tampered with', async () => {
    const ring = new KeyRing(await a);
    const sealed = await ring.seal('token', 'bankgate:connection:one');
    await expect(ring.open(sealed, 'bankgate:connection:two')).rejects.toMatchObject({ code: 'store_unavailable', extra: { reason: 'record_unreadable' } });
    const parts = sealed.split('.');
    parts[3] = parts[3]!.startsWith('A') ? `B${parts[3]!.slice(1)}` : `A${parts[3]!.slice(1)}`;
    await expect(ring.open(parts.join('.'), 'bankgate:connection:one')).rejects.toMatchObject({ extra: { reason: 'record_unreadable' } });
    await expect(ring.open('v2.x.y.z.w', 'aad')).rejects.toMatchObject({ extra: { reason: 'record_unreadable' } });
  });

  it('rejects keys that are not 32 bytes, naming the path', async () => {
    await expect(parseStoreKey('too short', 'store.encryption.key')).rejects.toThrow(/^store\.encryption\.key: an encryption key must be 32 bytes/);
    await expect(parseStoreKey('!'.repeat(44), 'store.encryption.key')).rejects.toThrow(/must be 32 bytes/);
    const [ka, kb] = await Promise.all([a, b]);
    expect(ka.id).toMatch(/^[0-9a-f]{16}$/);
    expect(ka.id).not.toBe(kb.id);
  });

  it('reads a key as base64, base64url (with or without padding) and hex alike', async () => {
    const bytes = randomBytes(32);
    const ids = await Promise.all([bytes.toString('base64'), bytes.toString('base64url'), `${bytes.toString('base64url')}=`, bytes.toString('hex'), ` ${bytes.toString('base64')}\n`].map((text) => parseStoreKey(text, 'k')));
    expect(new Set(ids.map((k) => k.id)).size).toBe(1);
    expect(Buffer.from(ids[0]!.key).equals(bytes)).toBe(true);
  });
});

describe('KeyRing: the sealed format of the node:crypto implementation', () => {
  const keyText = 'qUg9Fb7N1d3mJYH5f0Kq3gVjZl3H8Yx1dQ6n0cW9p2E=';
  // Written by the node:crypto KeyRing (the commit before WebCrypto) with the key above.
  const sealedBefore =
    'v1.6b368aef461b598c.ZirFDs5dF0dJ7k9-.EZywOm7MzIWiM1ExfGtZH_RILUZeYAHmURVCsZp8zf1DTRonp2T8Gd-DxoVWkRxj5NMpw7w4vjr5SydaU4xgrKk.kEFJQLpOl07jwQDy-he8tQ';
  const connectionBefore = {
    revision: 7,
    sealed:
      'v1.6b368aef461b598c.0DPjpu-fns77dY0l.qVQqplKAWWsj_5FprziUhAidot6swUY9GCv2975CJUn9s3um6Edln79LSvVA8UbweS8nZIMyHxXKA1MX2gNo6OQdtrYly75MBP9_MXY23BIwNjZ4_t1Zkc3vwW62XD7Kqis6zIJWt5Bd5tq5TyjU9PaNC5UrX9kfRlH0EAlnnL4wXf99U0iN-Ee1Lln_18xqfXaFmITPEEqXKB5B6d40T8xi8I3NGTmNnaCB0GhK4LqhkuQScjNKG2Rq_Cno3oqFQPCb.nxVLB37_YSmfhu9FQ0FF1A',
  };

  it('derives the same key id', async () => {
    expect((await parseStoreKey(keyText, 'k')).id).toBe(nodeCrypto.keyId(Buffer.from(keyText, 'base64')));
    expect((await parseStoreKey(keyText, 'k')).id).toBe('6b368aef461b598c');
  });

  it('opens a value and a whole connection record sealed before', async () => {
    const ring = new KeyRing(await parseStoreKey(keyText, 'k'));
    expect(await ring.open(sealedBefore, 'bankgate:connection:conn_fixture')).toBe('{"accessToken":"at-1","note":"sealed by the node:crypto KeyRing"}');
    expect(await openConnection(ring, 'conn_fixture', connectionBefore)).toEqual({
      id: 'conn_fixture',
      bank: 'sg',
      owner: 'dev',
      status: 'active',
      scopes: ['aisp'],
      createdAt: 1,
      updatedAt: 2,
      tokens: { accessToken: 'at-1', refreshToken: 'rt-1', expiresAt: 3, expiresIn: 599 },
      revision: 7,
    });
    // Bound to its id, as before.
    await expect(openConnection(ring, 'conn_other', connectionBefore)).rejects.toMatchObject({ extra: { reason: 'record_unreadable' } });
  });

  it('opens what node:crypto seals now, and node:crypto opens what it seals: same bytes, same associated data', async () => {
    const raw = randomBytes(32);
    const key = await parseStoreKey(raw.toString('base64'), 'k');
    const ring = new KeyRing(key);
    for (const plaintext of ['', 'x', 'é€😀 tokens', 'y'.repeat(5000)]) {
      const aad = `bankgate:connection:${plaintext.length}`;
      expect(await ring.open(nodeCrypto.seal(raw, key.id, plaintext, aad), aad)).toBe(plaintext);
      const sealed = await ring.seal(plaintext, aad);
      expect(sealed.split('.').map((p, i) => (i === 2 ? Buffer.from(p, 'base64url').length : undefined))[2]).toBe(12);
      expect(nodeCrypto.open(raw, sealed, aad)).toBe(plaintext);
    }
    // Bound to the storage id: the owner's key and the caller's connection id.
    const record = await sealConnection(ring, { id: 'c1', bank: 'seb', owner: 'key:o', status: 'pending', scopes: [], createdAt: 0, updatedAt: 0 }, 3);
    expect(JSON.parse(nodeCrypto.open(raw, record.sealed, 'bankgate:connection:key:o/c1'))).toMatchObject({ id: 'c1', bank: 'seb' });
  });
});
