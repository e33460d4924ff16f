/**
 * Resilience through the gateway against the SG-like sandbox bank, with faults armed on its control plane:
 * timeouts, retries for idempotent calls only, the circuit breaker, compressed answers.
 * SG's payment-request operations use a client-credentials token: no consent needed.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { problemOf, startHarness, type Harness } from '../e2e/harness.js';
import { armFaults, bankPath, clearFaults, SG_PAYMENT } from './sandbox-faults.js';

describe('retries, timeouts and compression (breaker off)', () => {
  let h: Harness;
  let prefix: string;
  beforeAll(async () => {
    h = await startHarness({
      adjust: (config) => {
        config.banks.sg!.transport = {
          timeouts: { headersMs: 700 },
          retries: { max: 2, baseDelayMs: 20, maxDelayMs: 100 },
          breaker: { enabled: false },
        };
      },
    });
    prefix = `${bankPath(h.sandbox, 'sg', 'pisp')}/payment-requests`;
    // Obtain the client-credentials token once, before any fault is armed.
    await h.call('/sg/pisp/payment-requests/warm-up');
    await h.resetStats();
  });
  afterEach(async () => {
    await clearFaults(h.sandbox);
    await h.resetStats();
  });
  afterAll(() => h?.close());

  it('a GET answered 503 is retried, and the caller gets the real answer', async () => {
    await armFaults(h.sandbox, [{ bank: 'sg', action: 'status', status: 503, method: 'GET', pathPrefix: prefix, times: 2 }]);
    const response = await h.call('/sg/pisp/payment-requests/unknown-id');
    expect(response.status).toBe(404);
    expect((await h.stats()).banks.sg.resourceCalls).toEqual({ '503': 2, '404': 1 });
    expect(h.gateway.metrics.value('bankgate_bank_retries_total', { bank: 'sg', reason: '503' })).toBe(2);
  });

  it('a payment POST answered 503 is not retried', async () => {
    const retriesBefore = h.gateway.metrics.value('bankgate_bank_retries_total', { bank: 'sg', reason: '503' }) ?? 0;
    await armFaults(h.sandbox, [{ bank: 'sg', action: 'status', status: 503, method: 'POST', pathPrefix: prefix, times: 1 }]);
    const response = await h.call('/sg/pisp/payment-requests', { method: 'POST', body: SG_PAYMENT });
    // The bank's 503 reaches the caller (as the surface maps bank errors), and the bank saw one attempt.
    expect(response.status).toBeGreaterThanOrEqual(502);
    expect((await problemOf(response)).code).not.toBe('bank_circuit_open');
    expect((await h.stats()).banks.sg.resourceCalls).toEqual({ '503': 1 });
    expect(h.gateway.metrics.value('bankgate_bank_retries_total', { bank: 'sg', reason: '503' }) ?? 0).toBe(retriesBefore);
  });

  it('a GET whose connection is closed without an answer is retried', async () => {
    await armFaults(h.sandbox, [{ bank: 'sg', action: 'close', method: 'GET', pathPrefix: prefix, times: 1 }]);
    const response = await h.call('/sg/pisp/payment-requests/unknown-id');
    expect(response.status).toBe(404);
    expect(h.gateway.metrics.value('bankgate_bank_retries_total', { bank: 'sg', reason: 'bank_unreachable' })).toBeGreaterThanOrEqual(1);
  });

  it('a slow bank → 504 problem+json bank_timeout, after the retries', async () => {
    await armFaults(h.sandbox, [{ bank: 'sg', action: 'delay', delayMs: 2_000, method: 'GET', pathPrefix: prefix, times: 3 }]);
    const started = Date.now();
    const response = await h.call('/sg/pisp/payment-requests/unknown-id');
    expect(response.status).toBe(504);
    const problem = await problemOf(response);
    expect(problem).toMatchObject({ code: 'bank_timeout', bank: 'sg', reason: 'UND_ERR_HEADERS_TIMEOUT' });
    expect(problem.detail).toContain('banks.sg.transport.timeouts.headersMs');
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('a gzip answer arrives intact, decoded, without content-encoding', async () => {
    const created = await h.call('/sg/pisp/payment-requests', { method: 'POST', body: SG_PAYMENT });
    expect(created.status).toBe(201);
    const id = created.headers.get('location')!.split('/').pop()!;
    const plain = await (await h.call(`/sg/pisp/payment-requests/${id}`)).json();
    await armFaults(h.sandbox, [{ bank: 'sg', action: 'gzip', method: 'GET', pathPrefix: prefix, times: 1 }]);
    const response = await h.call(`/sg/pisp/payment-requests/${id}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-encoding')).toBeNull();
    expect(await response.json()).toEqual(plain);
    expect(await (await fetch(`${h.sandbox.controlUrl}/faults`)).json()).toEqual([]);
  });
});

describe('the circuit breaker', () => {
  let h: Harness;
  let prefix: string;
  beforeAll(async () => {
    h = await startHarness({
      adjust: (config) => {
        config.banks.sg!.transport = { retries: { max: 0 }, breaker: { failureThreshold: 3, coolDownMs: 1_000 } };
      },
    });
    prefix = `${bankPath(h.sandbox, 'sg', 'pisp')}/payment-requests`;
    await h.call('/sg/pisp/payment-requests/warm-up');
    await h.resetStats();
  });
  afterAll(() => h?.close());

  it('opens after repeated failures (problem+json bank_circuit_open, metric 1) and closes again once the bank recovers', async () => {
    const state = () => h.gateway.metrics.value('bankgate_circuit_state', { bank: 'sg' });
    expect(state()).toBe(0);
    await armFaults(h.sandbox, [{ bank: 'sg', action: 'status', status: 503, method: 'GET', pathPrefix: prefix, times: -1 }]);
    for (let i = 0; i < 3; i++) {
      const failed = await h.call('/sg/pisp/payment-requests/x');
      expect(failed.status).toBeGreaterThanOrEqual(502);
      expect((await problemOf(failed)).code).not.toBe('bank_circuit_open');
    }
    expect(state()).toBe(1);

    const refused = await h.call('/sg/pisp/payment-requests/x');
    expect(refused.status).toBe(503);
    const problem = await problemOf(refused);
    expect(problem).toMatchObject({ code: 'bank_circuit_open', bank: 'sg', status: 503 });
    expect(problem.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    // Refused without calling the bank.
    expect((await h.stats()).banks.sg.resourceCalls).toEqual({ '503': 3 });
    expect(h.gateway.metrics.render()).toMatch(/bankgate_circuit_state\{bank="sg"\} 1/);

    await clearFaults(h.sandbox);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    // The probe reaches the recovered bank; the circuit closes and calls flow again.
    expect((await h.call('/sg/pisp/payment-requests/x')).status).toBe(404);
    expect(state()).toBe(0);
    expect((await h.call('/sg/pisp/payment-requests/x')).status).toBe(404);
    expect((await h.stats()).banks.sg.resourceCalls).toEqual({ '503': 3, '404': 2 });
  });
});
