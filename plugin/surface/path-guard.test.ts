import { describe, expect, it } from 'vitest';
import { BankgateError } from '../errors/bankgate-error.js';
import { rawPathOf, safePathSegments } from './path-guard.js';

const rejected = (path: string) => {
  try {
    safePathSegments(path);
  } catch (error) {
    return error instanceof BankgateError ? error.code : 'other';
  }
  return 'accepted';
};

describe('safePathSegments', () => {
  it('decodes ordinary segments', () => {
    expect(safePathSegments('/seb/ais/accounts/a%20b/balances')).toEqual(['seb', 'ais', 'accounts', 'a b', 'balances']);
    expect(safePathSegments('/seb/ais/accounts/')).toEqual(['seb', 'ais', 'accounts']);
  });

  it.each([
    '/seb/ais/../pis',
    '/seb/ais/./accounts',
    '/seb/%2e%2e/x',
    '/seb/%2E./x',
    '/seb/.%2e/x',
    '/seb/a%2fb',
    '/seb/a%2Fb',
    '/seb/a%5cb',
    '/seb/a\\b',
    '/seb/a%00b',
    '//evil.example/seb',
    '/seb//ais',
    'http://evil.example/seb/ais',
    '/seb/%E0%A4%A',
    '/seb/a%0ab',
  ])('rejects %s', (path) => {
    expect(rejected(path)).toBe('path_rejected');
  });

  it('cuts the query off a request target', () => {
    expect(rawPathOf('/a/b?x=/../y')).toBe('/a/b');
  });
});
