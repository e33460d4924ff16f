import { describe, expect, it } from 'vitest';
import { createLineLogger, logLevelFrom, withFields } from './log.js';

function capture(level: 'debug' | 'info' | 'warn' = 'info') {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, log: createLineLogger((line) => lines.push(JSON.parse(line) as Record<string, unknown>), level) };
}

describe('createLineLogger (the portable sink)', () => {
  it('writes one JSON line per event with its level, time and fields, as the Node sink does', () => {
    const { lines, log } = capture();
    log.info('bank.call', { bank: 'seb', status: 200 });
    expect(lines).toEqual([{ level: 'info', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), event: 'bank.call', bank: 'seb', status: 200 }]);
  });

  it('blanks members named like secrets and cuts bearer tokens, JWTs and PEMs out of strings', () => {
    const { lines, log } = capture();
    log.warn('x', { accessToken: 'abc', detail: 'sent Bearer abcdefghijklmnop to eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig', nested: { clientSecret: 's', pem: '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----' } });
    expect(lines[0]).toMatchObject({ accessToken: '[redacted]', detail: 'sent Bearer [redacted] to [redacted]', nested: { clientSecret: '[redacted]', pem: '[redacted]' } });
  });

  it('drops lines below its level; no debug at all below debug', () => {
    const quiet = capture('warn');
    expect(quiet.log.debug).toBeUndefined();
    quiet.log.info('a');
    quiet.log.error('b');
    expect(quiet.lines.map((l) => l.event)).toEqual(['b']);
    const chatty = capture('debug');
    chatty.log.debug?.('bank.call', {});
    expect(chatty.lines).toHaveLength(1);
  });
});

describe('withFields', () => {
  it('adds its fields to every level; a line keeps its own value on a clash', () => {
    const { lines, log } = capture('debug');
    const scoped = withFields(log, { requestId: 'r-1' });
    scoped.info('a');
    scoped.warn('b', { bank: 'sg' });
    scoped.error('c', { requestId: 'own' });
    scoped.debug?.('d');
    expect(lines.map((l) => [l.event, l.level, l.requestId, l.bank])).toEqual([
      ['a', 'info', 'r-1', undefined],
      ['b', 'warn', 'r-1', 'sg'],
      ['c', 'error', 'own', undefined],
      ['d', 'debug', 'r-1', undefined],
    ]);
  });

  it('has no debug when the logger has none', () => {
    expect(withFields({ info() {}, warn() {}, error() {} }, { requestId: 'r' }).debug).toBeUndefined();
  });
});

describe('logLevelFrom (BANKGATE_LOG_LEVEL)', () => {
  it('defaults to info and accepts the levels in any case', () => {
    expect(logLevelFrom(undefined)).toBe('info');
    expect(logLevelFrom('')).toBe('info');
    expect(logLevelFrom('DEBUG')).toBe('debug');
    expect(logLevelFrom(' warn ')).toBe('warn');
  });

  it('refuses an unknown level, naming the variable and the levels there are', () => {
    expect(() => logLevelFrom('verbose')).toThrow(/BANKGATE_LOG_LEVEL="verbose" is not a log level: set it to one of debug, info, warn, error, silent/);
    expect(() => logLevelFrom('verbose')).toThrow(expect.objectContaining({ code: 'config_invalid' }));
  });
});
