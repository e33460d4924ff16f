import { describe, expect, it } from 'vitest';
import { createCallerAuthenticator } from './caller-auth.js';

const callers = { keys: [{ id: 'batch', key: 'batch-key-0123456789', allow: ['sg/*'] }] };

describe('createCallerAuthenticator: static keys', () => {
  it('a key seen once answers synchronously (no hashing on the hot path); the first time is hashed (WebCrypto)', async () => {
    const authenticate = createCallerAuthenticator({ callers, devKey: 'dev-key-0123456789abcdef' });
    const first = authenticate('Bearer batch-key-0123456789');
    expect(first).toBeInstanceOf(Promise);
    expect(await first).toEqual({ id: 'batch', key: 'key:batch', via: 'key', allow: ['sg/*'] });
    expect(authenticate('Bearer batch-key-0123456789')).toEqual({ id: 'batch', key: 'key:batch', via: 'key', allow: ['sg/*'] });
    expect(await authenticate('bearer   dev-key-0123456789abcdef ')).toEqual({ id: 'dev', key: 'key:dev', via: 'key', allow: ['*'] });
    expect(authenticate('Bearer dev-key-0123456789abcdef')).toEqual({ id: 'dev', key: 'key:dev', via: 'key', allow: ['*'] });
  });

  it('a wrong key, a key differing in one character or length, and a missing header: 401 with a stable reason', async () => {
    const authenticate = createCallerAuthenticator({ callers });
    for (const wrong of ['batch-key-012345678X', 'batch-key-0123456789-', 'batch-key-012345678']) {
      await expect(Promise.resolve().then(() => authenticate(`Bearer ${wrong}`))).rejects.toMatchObject({ code: 'unauthorized', status: 401, extra: { reason: 'invalid_key' } });
    }
    expect(() => authenticate(undefined)).toThrow(expect.objectContaining({ code: 'unauthorized', extra: { reason: 'missing' } }));
    expect(() => authenticate('Basic abc')).toThrow(expect.objectContaining({ code: 'unauthorized', extra: { reason: 'missing' } }));
    // A miss is never remembered: it costs the hash again, and stays refused.
    await expect(Promise.resolve().then(() => authenticate('Bearer batch-key-012345678X'))).rejects.toMatchObject({ status: 401 });
  });

  it('two credentials (repeated Authorization headers joined by a framing) are refused, even when both are valid', async () => {
    const authenticate = createCallerAuthenticator({ callers, devKey: 'dev-key-0123456789abcdef' });
    expect(await authenticate('Bearer batch-key-0123456789')).toMatchObject({ key: 'key:batch' });
    for (const joined of ['Bearer batch-key-0123456789, Bearer dev-key-0123456789abcdef', 'Bearer batch-key-0123456789,Bearer batch-key-0123456789', 'Bearer batch-key-0123456789,']) {
      expect(() => authenticate(joined)).toThrow(expect.objectContaining({ code: 'unauthorized', status: 401, extra: { reason: 'repeated' } }));
    }
  });
});
