import { describe, expect, it } from 'vitest';
import { createJsonLogger } from './log.js';

function capture(level: 'debug' | 'info' = 'info') {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, log: createJsonLogger((line) => lines.push(JSON.parse(line) as Record<string, unknown>), level) };
}

describe('createJsonLogger (pino, the Node sink)', () => {
  it('writes one JSON line per event with its level, time and fields', () => {
    const { lines, log } = capture();
    log.info('bank.call', { bank: 'seb', status: 200 });
    expect(lines).toEqual([{ level: 'info', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), event: 'bank.call', bank: 'seb', status: 200 }]);
  });

  it('blanks members named like secrets and cuts bearer tokens and JWTs out of strings', () => {
    const { lines, log } = capture();
    log.warn('x', { accessToken: 'abc', detail: 'sent Bearer abcdefghijklmnop to eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig', nested: { clientSecret: 's' } });
    expect(lines[0]).toMatchObject({ accessToken: '[redacted]', detail: 'sent Bearer [redacted] to [redacted]', nested: { clientSecret: '[redacted]' } });
  });

  it('debug lines only at debug level', () => {
    const quiet = capture('info');
    quiet.log.debug?.('bank.call', {});
    expect(quiet.lines).toEqual([]);
    const chatty = capture('debug');
    chatty.log.debug?.('bank.call', {});
    expect(chatty.lines).toHaveLength(1);
  });

  it('a line carries a request id only when the code that logs it passes one', () => {
    const { lines, log } = capture();
    log.info('store.opened', { kind: 'file' });
    expect(lines[0]).not.toHaveProperty('requestId');
  });
});
