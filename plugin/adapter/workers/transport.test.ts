import { describe, expect, it } from 'vitest';
import { ProblemCollector } from '../../config/secret-ref.js';
import { BankgateError } from '../../errors/bankgate-error.js';
import { silentLogger } from '../../log.js';
import { MetricsRegistry } from '../../observability/metrics.js';
import { classifyAttemptFailure, isSilentClose } from '../../tokens/refresh-outcome.js';
import { transportSchema } from '../../transport/config-schema.js';
import { workersTransport } from './transport.js';

/** A binding as workerd reports a connection closed right after the handshake: `Network connection lost.` */
function binding(answersProbe: boolean | 'never') {
  const calls: string[] = [];
  return {
    calls,
    fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
      calls.push(`${init?.method ?? 'GET'} ${new URL(input instanceof Request ? input.url : String(input)).pathname}`);
      // A bank that accepts the probe's connection and never answers: only the probe's signal ends it, as in workerd.
      if (answersProbe === 'never' && init?.method === 'HEAD') return new Promise((_resolve, reject) => init.signal?.addEventListener('abort', () => reject(init.signal!.reason)));
      if (answersProbe === true && init?.method === 'HEAD') return Promise.resolve(new Response(null, { status: 404 }));
      return Promise.reject(new Error('Network connection lost.'));
    },
  };
}

async function failureOf(answersProbe: boolean | 'never', settings: Record<string, unknown> = {}): Promise<{ error: BankgateError; calls: string[] }> {
  const QWAC_SG = binding(answersProbe);
  const context = { metrics: new MetricsRegistry(), log: silentLogger, problems: new ProblemCollector({ name: 'workers', env: {} }), now: Date.now };
  const transport = await workersTransport({ QWAC_SG })({ bank: 'sg', at: 'banks.sg.mtls', mtls: { kind: 'binding', binding: 'QWAC_SG', warnDays: 30 }, settings: transportSchema.parse(settings), labels: { bank: 'sg' } }, context);
  try {
    await transport!.send({ method: 'POST', origin: 'https://bank.example', path: '/token', headers: {} });
  } catch (error) {
    return { error: error as BankgateError, calls: QWAC_SG.calls };
  }
  throw new Error('the call did not fail');
}

describe('the Workers handshake probe and the refresh rule for a silent close (refresh-outcome.ts)', () => {
  it('a bank that also drops the probe: bank_tls_error with the reason Node gives a handshake closed without an alert; a refresh counts it unknown once', async () => {
    const { error, calls } = await failureOf(false);
    expect(calls).toEqual(['POST /token', 'HEAD /']);
    expect(error).toBeInstanceOf(BankgateError);
    expect(error.code).toBe('bank_tls_error');
    expect(error.extra?.reason).toBe('ERR_BANKGATE_TLS_HANDSHAKE_REJECTED');
    expect(isSilentClose(error)).toBe(true);
    expect(classifyAttemptFailure(error)).toBe('unknown');
  });

  it('a bank that answers the probe: the lost connection is a reset (bank_unreachable ECONNRESET, not 500 internal_error), and a refresh counts it unknown', async () => {
    const { error, calls } = await failureOf(true);
    expect(calls).toEqual(['POST /token', 'HEAD /']);
    expect(error).toBeInstanceOf(BankgateError);
    // As a reset on Node: the bank may have got the request (a token refresh retries it as an unknown outcome).
    expect(error.code).toBe('bank_unreachable');
    expect(error.extra?.reason).toBe('ECONNRESET');
    expect(isSilentClose(error)).toBe(false);
    expect(classifyAttemptFailure(error)).toBe('unknown');
  });
});

// Issue 15 item 4: the probe holds a failing call's error back at most probeBudgetMs(connectMs) (it was a fixed 5 s).
describe('the Workers handshake probe is bounded', () => {
  it('a bank that never answers the probe: bank_unreachable ECONNRESET within min(connectMs, 3 s)', async () => {
    const started = performance.now();
    const { error, calls } = await failureOf('never', { timeouts: { connectMs: 300 } });
    const tookMs = performance.now() - started;
    expect(calls).toEqual(['POST /token', 'HEAD /']);
    expect(error.code).toBe('bank_unreachable');
    expect(error.extra?.reason).toBe('ECONNRESET');
    expect(tookMs).toBeGreaterThanOrEqual(280);
    expect(tookMs).toBeLessThan(2_500);
  });
});
