import { describe, expect, it } from 'vitest';
import { BankgateError } from '../errors/bankgate-error.js';
import { MetricsRegistry } from '../observability/metrics.js';
import { withResilience, type ResilienceOptions } from './resilient-transport.js';
import { backoffMs, retryAfterMs } from './retry-policy.js';
import type { BankRequest, BankResponse, BankTransport } from './types.js';

type Outcome = number | BankgateError;

function scripted(outcomes: Outcome[]) {
  const seen: BankRequest[] = [];
  const transport: BankTransport = {
    async send(request) {
      seen.push(request);
      const next = outcomes.shift() ?? 200;
      if (next instanceof BankgateError) throw next;
      return { status: next, headers: {}, body: new Uint8Array() } satisfies BankResponse;
    },
    fetch: globalThis.fetch,
    close: async () => {},
  };
  return { transport, seen };
}

const options = (overrides: Partial<ResilienceOptions> = {}): ResilienceOptions => ({
  bank: 'b',
  retries: { max: 2, baseDelayMs: 1, maxDelayMs: 5 },
  breaker: { enabled: true, failureThreshold: 3, failureRate: 1, windowSize: 10, coolDownMs: 60_000 },
  ...overrides,
});
const get: BankRequest = { method: 'GET', origin: 'https://bank.example', path: '/a', headers: {} };
const post: BankRequest = { method: 'POST', origin: 'https://bank.example', path: '/payments', headers: {}, body: new Uint8Array([1]) };
const unreachable = () => new BankgateError('bank_unreachable', { status: 502, detail: 'x' });

describe('withResilience: a call closed without a byte of answer on a fresh connection (silent close)', () => {
  const silentClose = () => new BankgateError('bank_tls_error', { status: 502, detail: 'x', extra: { reason: 'ERR_BANKGATE_TLS_HANDSHAKE_REJECTED' } });

  it('an idempotent call is repeated once: a dropped answer is then just a slower 200', async () => {
    const { transport, seen } = scripted([silentClose(), 200]);
    const metrics = new MetricsRegistry();
    expect((await withResilience(transport, options({ metrics })).send(get)).status).toBe(200);
    expect(seen).toHaveLength(2);
    expect(metrics.value('bankgate_bank_retries_total', { bank: 'b', reason: 'silent_close' })).toBe(1);
  });

  it('twice in a row it is the TLS setup: bank_tls_error, as before', async () => {
    const { transport, seen } = scripted([silentClose(), silentClose(), 200]);
    await expect(withResilience(transport, options()).send(get)).rejects.toMatchObject({ code: 'bank_tls_error' });
    expect(seen).toHaveLength(2);
  });

  it('a call that may not be repeated (a payment POST) is not sent again: bank_outcome_unknown, 502, naming both causes', async () => {
    const { transport, seen } = scripted([silentClose(), 201]);
    const error = (await withResilience(transport, options()).send(post).catch((e: unknown) => e)) as BankgateError;
    expect(error).toBeInstanceOf(BankgateError);
    expect(error.code).toBe('bank_outcome_unknown');
    expect(error.status).toBe(502);
    expect(error.message).toMatch(/unknown.*before sending it again.*banks\.b\.mtls/s);
    expect(error.extra?.retryable).toBe(false);
    expect(seen).toHaveLength(1);
  });

  it('a TLS failure with an alert is not a silent close: never repeated, never called unknown', async () => {
    const alert = new BankgateError('bank_tls_error', { status: 502, detail: 'x', extra: { reason: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' } });
    for (const request of [get, post]) {
      const { transport, seen } = scripted([alert, 200]);
      await expect(withResilience(transport, options()).send(request)).rejects.toMatchObject({ code: 'bank_tls_error' });
      expect(seen).toHaveLength(1);
    }
  });
});

describe('withResilience: retries', () => {
  it('retries an idempotent call on 502/503/504 and on connection failures, then returns the answer', async () => {
    const { transport, seen } = scripted([503, unreachable(), 200]);
    const metrics = new MetricsRegistry();
    const response = await withResilience(transport, options({ metrics })).send(get);
    expect(response.status).toBe(200);
    expect(seen).toHaveLength(3);
    expect(metrics.value('bankgate_bank_retries_total', { bank: 'b', reason: '503' })).toBe(1);
    expect(metrics.value('bankgate_bank_retries_total', { bank: 'b', reason: 'bank_unreachable' })).toBe(1);
  });

  it('gives up after retries.max and returns the last answer', async () => {
    const { transport, seen } = scripted([503, 503, 503, 200]);
    expect((await withResilience(transport, options()).send(get)).status).toBe(503);
    expect(seen).toHaveLength(3);
  });

  it('never retries a POST, nor a 500, nor a TLS failure', async () => {
    for (const [request, outcome] of [
      [post, 503],
      [get, 500],
      [get, new BankgateError('bank_tls_error', { status: 502, detail: 'x' })],
    ] as const) {
      const { transport, seen } = scripted([outcome, 200]);
      await withResilience(transport, options()).send(request).catch(() => {});
      expect(seen).toHaveLength(1);
    }
  });

  it('retries a POST that carries the idempotency key the bank honours', async () => {
    const { transport, seen } = scripted([503, 201]);
    const keyed = { ...post, headers: { 'idempotency-key': 'k-1' } };
    expect((await withResilience(transport, options({ idempotencyKeyHeader: 'idempotency-key' })).send(keyed)).status).toBe(201);
    expect(seen).toHaveLength(2);
    const { transport: t2, seen: seen2 } = scripted([503, 201]);
    await withResilience(t2, options({ idempotencyKeyHeader: 'idempotency-key' })).send(post);
    expect(seen2).toHaveLength(1);
  });

  it('backoff is full jitter under an exponential ceiling; Retry-After is honoured only within maxDelayMs', () => {
    expect(backoffMs(0, 100, 2_000, () => 0.999)).toBe(99);
    expect(backoffMs(3, 100, 2_000, () => 0.5)).toBe(400);
    expect(backoffMs(10, 100, 2_000, () => 0.999)).toBe(1_998);
    expect(backoffMs(2, 100, 2_000, () => 0)).toBe(0);
    expect(retryAfterMs('1', 2_000)).toBe(1_000);
    expect(retryAfterMs('120', 2_000)).toBeUndefined();
    expect(retryAfterMs(new Date(Date.now() + 60_000).toUTCString(), 2_000)).toBeUndefined();
  });
});

describe('withResilience: circuit breaker', () => {
  it('opens after consecutive failures and answers bank_circuit_open (503) without calling the bank', async () => {
    const metrics = new MetricsRegistry();
    const { transport, seen } = scripted([unreachable(), unreachable(), unreachable()]);
    const t = withResilience(transport, options({ retries: { max: 0, baseDelayMs: 1, maxDelayMs: 1 }, metrics }));
    expect(metrics.value('bankgate_circuit_state', { bank: 'b' })).toBe(0);
    for (let i = 0; i < 3; i++) await expect(t.send(get)).rejects.toMatchObject({ code: 'bank_unreachable' });
    const error = await t.send(get).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'bank_circuit_open', status: 503, bank: 'b', extra: { retryAfterSeconds: 60 } });
    expect(seen).toHaveLength(3);
    expect(metrics.value('bankgate_circuit_state', { bank: 'b' })).toBe(1);
    expect(metrics.value('bankgate_circuit_rejected_total', { bank: 'b' })).toBe(1);
  });

  it('bank answers below 500 (a 404, a 401) are successes for the breaker', async () => {
    const { transport } = scripted([404, 401, 400, 404]);
    const t = withResilience(transport, options({ breaker: { enabled: true, failureThreshold: 1, failureRate: 1, windowSize: 2, coolDownMs: 1 } }));
    for (let i = 0; i < 4; i++) await t.send(get);
  });
});
