/**
 * A bank whose token endpoint never answers the authorization code exchange, trickles its answer, or (FAPI 1) whose
 * JWKS never answers when the callback checks the id_token: the PSU's return to the gateway ends with a clear error
 * (the engine's `504 consent_failed`, its detail the transport's `bank_timeout` naming the setting), within the
 * bank's per-attempt deadline (`transport.timeouts.totalMs`, the transport fetch's, which every OAuth call goes
 * through), not a callback hanging until the bank gives up. For the UK Open Banking protocol (ukob, FAPI 2.0 and
 * FAPI 1) and the plain OAuth one (seb). `headersMs` and `bodyMs` are set far above the deadline so that it is the
 * attempt's deadline that ends the wait, not the transport's idle timeouts; the sandbox holds the answer (a `delay`
 * fault) until the gateway gives up on it, or trickles it (a `trickle` fault: a byte every 200 ms).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consentHeadlessly } from '../../sandbox/headless-consent.js';
import { startHarness, type Harness } from '../e2e/harness.js';
import { startUkobGateway, type UkobGateway } from './ukob-gateway.js';

const DEADLINE_MS = 1_000;
/** Far above the deadline: without the exchange's own deadline, the gateway would wait this long (or the fault's). */
const HEADERS_MS = 120_000;
const HELD_MS = 100_000;
const timeouts = { totalMs: DEADLINE_MS, headersMs: HEADERS_MS, bodyMs: HEADERS_MS };

async function armFault(controlUrl: string, rule: Record<string, unknown>): Promise<void> {
  const armed = await fetch(`${controlUrl}/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([rule]) });
  expect(armed.status).toBeLessThan(300);
}

function holdTokenResponses(controlUrl: string, bank: string): Promise<void> {
  return armFault(controlUrl, { bank, target: 'token', action: 'delay', grantType: 'authorization_code', delayMs: HELD_MS });
}

/** The consent engine answers a failed callback `consent_failed`, 504 when the bank did not answer in time; the exchange's bank_timeout is its detail. */
function expectTimeout(callback: Response, problem: { code: string; status: number; detail: string }, bank: string): void {
  expect(callback.status).toBe(504);
  expect(problem).toMatchObject({ code: 'consent_failed', status: 504 });
  expect(problem.detail).toContain(`bank ${bank} did not send its complete answer within ${DEADLINE_MS} ms`);
  expect(problem.detail).toContain(`banks.${bank}.transport.timeouts.totalMs`);
}

describe('the UK Open Banking code exchange against a token endpoint that never answers', () => {
  let g: UkobGateway;
  beforeAll(async () => {
    g = await startUkobGateway('2.0', { adjust: (bank) => ({ ...bank, transport: { ...bank.transport, timeouts } }) });
  });
  afterAll(() => g?.close());

  it('fails the consent within the deadline, saying the bank did not answer', async () => {
    const started = await g.begin('slow-1');
    await holdTokenResponses(g.sandbox.controlUrl, 'ukob');
    const before = Date.now();
    const callback = await g.authorise(started.authorizeUrl);
    // Bounded by the deadline, far below what the transport's headersMs or the bank would have taken.
    expect(Date.now() - before).toBeLessThan(HEADERS_MS / 4);
    expectTimeout(callback, (await callback.json()) as { code: string; status: number; detail: string }, 'ukob');
  });
});

describe('the FAPI 1 callback against a JWKS that never answers (the id_token check, before the exchange)', () => {
  let g: UkobGateway;
  beforeAll(async () => {
    g = await startUkobGateway('1.0', { adjust: (bank) => ({ ...bank, transport: { ...bank.transport, timeouts } }) });
  });
  afterAll(() => g?.close());

  it('fails the consent within the deadline, saying the bank did not answer', async () => {
    const started = await g.begin('slow-jwks-1');
    const jwksPath = new URL(g.sandbox.banks.ukob.authorizationServer.jwksUri).pathname;
    await armFault(g.sandbox.controlUrl, { bank: 'ukob', target: 'token', action: 'delay', pathPrefix: jwksPath, delayMs: HELD_MS });
    const before = Date.now();
    const callback = await g.authorise(started.authorizeUrl);
    expect(Date.now() - before).toBeLessThan(HEADERS_MS / 4);
    expectTimeout(callback, (await callback.json()) as { code: string; status: number; detail: string }, 'ukob');
    // The code was never exchanged: the callback stopped at the id_token check.
    expect((await g.tokenRequests()).authorization_code ?? 0).toBe(0);
  });
});

describe('the OAuth code exchange against a token endpoint that never answers', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ adjust: (config) => void (config.banks.seb!.transport = { ...config.banks.seb!.transport, timeouts }) });
  });
  afterAll(() => h?.close());

  it('fails the consent within the deadline, saying the bank did not answer', async () => {
    const created = await h.call('/connections', { method: 'POST', body: { bank: 'seb', connectionId: 'slow-seb' } });
    expect(created.status).toBe(201);
    const { authorizeUrl } = (await created.json()) as { authorizeUrl: string };
    const { callbackUrl } = await consentHeadlessly(authorizeUrl, { ca: readFileSync(h.sandbox.caFile, 'utf8'), psuId: h.sandbox.banks.seb.psuIds[0]! });
    await holdTokenResponses(h.sandbox.controlUrl, 'seb');
    const before = Date.now();
    const callback = await fetch(callbackUrl);
    expect(Date.now() - before).toBeLessThan(HEADERS_MS / 4);
    expectTimeout(callback, (await callback.json()) as { code: string; status: number; detail: string }, 'seb');
  });
});

describe('the OAuth code exchange against a token endpoint that trickles its answer (a byte every 200 ms)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ adjust: (config) => void (config.banks.seb!.transport = { ...config.banks.seb!.transport, timeouts }) });
  });
  afterAll(() => h?.close());

  it('fails the consent within the deadline, saying the bank did not send its complete answer', async () => {
    const created = await h.call('/connections', { method: 'POST', body: { bank: 'seb', connectionId: 'trickle-seb' } });
    expect(created.status).toBe(201);
    const { authorizeUrl } = (await created.json()) as { authorizeUrl: string };
    const { callbackUrl } = await consentHeadlessly(authorizeUrl, { ca: readFileSync(h.sandbox.caFile, 'utf8'), psuId: h.sandbox.banks.seb.psuIds[0]! });
    await armFault(h.sandbox.controlUrl, { bank: 'seb', target: 'token', action: 'trickle', grantType: 'authorization_code', delayMs: 200 });
    const before = Date.now();
    const callback = await fetch(callbackUrl);
    expect(Date.now() - before).toBeLessThan(HEADERS_MS / 4);
    expectTimeout(callback, (await callback.json()) as { code: string; status: number; detail: string }, 'seb');
  });
});
