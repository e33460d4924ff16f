import { describe, expect, it } from 'vitest';
import type { Connection } from './connection.js';
import { KeyRing, parseStoreKey } from './key-ring.js';
import { OpenedRecords } from './opened-records.js';

/** A key ring that counts its decryptions. */
class CountingRing extends KeyRing {
  opened = 0;
  override async open(sealed: string, aad: string): Promise<string> {
    this.opened++;
    return super.open(sealed, aad);
  }
}

const connection = (id: string, accessToken: string): Connection => ({
  id,
  bank: 'sg',
  owner: 'key:app',
  status: 'active',
  scopes: ['aisp'],
  createdAt: 1,
  updatedAt: 2,
  tokens: { accessToken, expiresAt: 3, expiresIn: 599 },
});

describe('OpenedRecords', () => {
  it('decrypts a record once while its sealed value stays the same; the revision is always the backend’s', async () => {
    const ring = new CountingRing(await parseStoreKey(Buffer.alloc(32, 7).toString('base64'), 'k'));
    const writer = new OpenedRecords(ring);
    const record = await writer.seal(connection('c1', 'at-1'), 4);
    const reader = new OpenedRecords(ring);
    expect(await reader.open('key:app/c1', { revision: 4, sealed: record.sealed })).toEqual({ ...connection('c1', 'at-1'), revision: 4 });
    expect(await reader.open('key:app/c1', { revision: 5, sealed: record.sealed })).toEqual({ ...connection('c1', 'at-1'), revision: 5 });
    expect(ring.opened).toBe(1);
    // Another value (another replica wrote): decrypted.
    const rewritten = await writer.seal(connection('c1', 'at-2'), 6);
    expect((await reader.open('key:app/c1', { revision: 6, sealed: rewritten.sealed })).tokens!.accessToken).toBe('at-2');
    expect(ring.opened).toBe(2);
    // What this process wrote itself needs no decryption to read back.
    expect((await writer.open('key:app/c1', rewritten)).tokens!.accessToken).toBe('at-2');
    expect(ring.opened).toBe(2);
  });

  it('never serves a value under another id, nor a tampered one, and forgets on demand', async () => {
    const ring = new CountingRing(await parseStoreKey(Buffer.alloc(32, 8).toString('base64'), 'k'));
    const records = new OpenedRecords(ring);
    const sealed = await records.seal(connection('a', 'at-a'), 1);
    await expect(records.open('key:app/b', sealed)).rejects.toMatchObject({ code: 'store_unavailable', extra: { reason: 'record_unreadable' } });
    const parts = sealed.sealed.split('.');
    parts[4] = Buffer.alloc(16).toString('base64url');
    await expect(records.open('key:app/a', { revision: 1, sealed: parts.join('.') })).rejects.toMatchObject({ extra: { reason: 'record_unreadable' } });
    records.forget('key:app/a');
    expect((await records.open('key:app/a', sealed)).tokens!.accessToken).toBe('at-a');
    expect(ring.opened).toBe(3);
  });

  it('holds at most `limit` ids, the oldest leaving first', async () => {
    const ring = new CountingRing(await parseStoreKey(Buffer.alloc(32, 9).toString('base64'), 'k'));
    const records = new OpenedRecords(ring, 2);
    const a = await records.seal(connection('a', 'at-a'), 1);
    const b = await records.seal(connection('b', 'at-b'), 1);
    const c = await records.seal(connection('c', 'at-c'), 1);
    await records.open('key:app/b', b);
    await records.open('key:app/c', c);
    expect(ring.opened).toBe(0);
    await records.open('key:app/a', a); // evicted when c was sealed
    expect(ring.opened).toBe(1);
  });
});
