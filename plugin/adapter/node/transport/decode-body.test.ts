import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeBody } from './decode-body.js';

const json = Buffer.from(JSON.stringify({ accounts: Array.from({ length: 50 }, (_, i) => ({ id: i })) }));
const limit = 1024 * 1024;

describe('decodeBody', () => {
  it.each([
    ['gzip', gzipSync(json)],
    ['x-gzip', gzipSync(json)],
    ['deflate', deflateSync(json)],
    ['deflate', deflateRawSync(json)],
    ['br', brotliCompressSync(json)],
  ])('%s: decoded, content-encoding and content-length dropped', async (coding, compressed) => {
    const decoded = await decodeBody(compressed, { 'content-encoding': coding, 'content-length': String(compressed.length), 'content-type': 'application/json' }, limit);
    expect(Buffer.from(decoded.body).equals(json)).toBe(true);
    expect(decoded.headers).toEqual({ 'content-type': 'application/json' });
  });

  it('undoes stacked codings from the last applied', async () => {
    const decoded = await decodeBody(brotliCompressSync(gzipSync(json)), { 'content-encoding': 'gzip, br' }, limit);
    expect(Buffer.from(decoded.body).equals(json)).toBe(true);
  });

  it('a zip bomb is stopped at the limit, inside zlib', async () => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(100_000);
    await expect(decodeBody(bomb, { 'content-encoding': 'gzip' }, limit)).rejects.toMatchObject({ code: 'ERR_BANKGATE_RESPONSE_TOO_LARGE' });
  });

  it('a corrupt body → ERR_BANKGATE_UNDECODABLE_RESPONSE; an unknown coding passes through with its header', async () => {
    await expect(decodeBody(Buffer.from('not gzip'), { 'content-encoding': 'gzip' }, limit)).rejects.toMatchObject({ code: 'ERR_BANKGATE_UNDECODABLE_RESPONSE', coding: 'gzip' });
    const zstd = await decodeBody(Buffer.from('x'), { 'content-encoding': 'zstd' }, limit);
    expect(zstd.headers['content-encoding']).toBe('zstd');
    const identity = await decodeBody(json, { 'content-encoding': 'identity' }, limit);
    expect(identity.headers['content-encoding']).toBeUndefined();
  });
});
