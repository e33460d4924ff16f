import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fromBase64, fromHex, toBase64, toBase64Url, toHex } from './base64.js';
import { timingSafeEqual } from './constant-time.js';

describe('base64 and hex on Web APIs', () => {
  it('encodes as Buffer does, for every length and byte', () => {
    for (const size of [0, 1, 2, 3, 31, 32, 33, 100_000]) {
      const bytes = randomBytes(size);
      expect(toBase64(bytes)).toBe(bytes.toString('base64'));
      expect(toBase64Url(bytes)).toBe(bytes.toString('base64url'));
      expect(toHex(bytes)).toBe(bytes.toString('hex'));
      expect(Buffer.from(fromBase64(bytes.toString('base64'))!).equals(bytes)).toBe(true);
      expect(Buffer.from(fromBase64(bytes.toString('base64url'))!).equals(bytes)).toBe(true);
      expect(Buffer.from(fromHex(bytes.toString('hex'))!).equals(bytes)).toBe(true);
    }
  });

  it('decodes pasted text (line breaks, missing padding) and refuses what is not base64', () => {
    const bytes = randomBytes(48);
    const wrapped = bytes.toString('base64').replace(/(.{16})/g, '$1\n');
    expect(Buffer.from(fromBase64(` ${wrapped} `)!).equals(bytes)).toBe(true);
    expect(Buffer.from(fromBase64('YQ')!).toString()).toBe('a');
    for (const bad of ['!!!!', 'a', 'ab=c', 'Zm9v==='] as const) expect(fromBase64(bad), bad).toBeUndefined();
    expect(fromHex('abc')).toBeUndefined();
    expect(fromHex('zz')).toBeUndefined();
  });
});

describe('timingSafeEqual', () => {
  it('is equality of bytes, false for different lengths', () => {
    expect(timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3]))).toBe(true);
    expect(timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4]))).toBe(false);
    expect(timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 3]))).toBe(false);
    expect(timingSafeEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
  });
});
