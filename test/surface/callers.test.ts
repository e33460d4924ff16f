import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consentHeadlessly } from '../../sandbox/headless-consent.js';
import { PSU_IP, problemOf, startHarness, type Harness } from '../e2e/harness.js';
import { readFileSync } from 'node:fs';
import { SG_PAYMENT } from '../fixtures/sg-payment.js';
import { startTestIssuer, type TestIssuer } from './jwks-server.js';

const KEY_B = 'static-key-of-service-b-0123456789';
const KEY_SG_ONLY = 'static-key-of-service-sg-0123456789';

describe('callers: JWTs against a JWKS, static keys, permissions, and isolation of connections', () => {
  let h: Harness;
  let issuer: TestIssuer;
  let tokenA: string;
  const as = (credential: string) => ({ authorization: `Bearer ${credential}` });

  beforeAll(async () => {
    issuer = await startTestIssuer();
    h = await startHarness({
      adjust: (config) => {
        config.callers = {
          jwt: { issuer: issuer.issuer, audience: 'bankgate', jwksUrl: issuer.jwksUrl, allow: { 'svc-a': ['*'] } },
          keys: { 'svc-b': { key: { value: KEY_B }, allow: ['*'] }, 'svc-sg': { key: { value: KEY_SG_ONLY }, allow: ['sg/*'] } },
        };
      },
    });
    tokenA = await issuer.sign({ sub: 'svc-a' });
    // Caller A (a JWT) creates a connection and its PSU consents.
    const created = await h.call('/connections', { method: 'POST', headers: as(tokenA), body: { bank: 'seb', connectionId: 'conn-of-a' } });
    expect(created.status).toBe(201);
    const { authorizeUrl } = (await created.json()) as { authorizeUrl: string };
    const { callbackUrl } = await consentHeadlessly(authorizeUrl, { ca: readFileSync(h.sandbox.caFile, 'utf8'), psuId: h.sandbox.banks.seb.psuIds[0]! });
    expect((await fetch(callbackUrl)).status).toBe(200);
  });
  afterAll(async () => {
    await h?.close();
    await issuer?.close();
  });

  const accounts = (credential: string, connection = 'conn-of-a') => h.call('/seb/ais/accounts', { headers: { ...as(credential), 'x-connection-id': connection, 'psu-ip-address': PSU_IP } });

  it('accepts a JWT from the configured issuer', async () => {
    expect((await accounts(tokenA)).status).toBe(200);
  });

  it.each([
    ['a wrong audience', () => issuer.sign({ sub: 'svc-a' }, { audience: 'someone-else' }), 'claim aud'],
    ['an expired token', () => issuer.sign({ sub: 'svc-a' }, { expiresIn: Math.floor(Date.now() / 1000) - 3600 }), 'expired'],
    ['another issuer', () => issuer.sign({ sub: 'svc-a' }, { issuer: 'https://evil.test' }), 'claim iss'],
    ['a key the issuer does not publish', () => issuer.sign({ sub: 'svc-a' }, { key: issuer.strangerKey }), ''],
  ])('rejects %s with 401', async (_name, make, reason) => {
    const response = await accounts(await make());
    expect(response.status).toBe(401);
    const problem = await problemOf(response);
    expect(problem.code).toBe('unauthorized');
    expect(problem.detail).toContain(reason);
  });

  it('rejects an unsigned JWT (alg none)', async () => {
    const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'svc-a', iss: issuer.issuer, aud: 'bankgate', exp: Math.floor(Date.now() / 1000) + 300 })}.`;
    const response = await accounts(unsigned);
    expect(response.status).toBe(401);
    expect((await problemOf(response)).code).toBe('unauthorized');
  });

  it("caller B cannot use, see or delete caller A's connection, and gets the same answer as for one that does not exist", async () => {
    const strip = (p: Record<string, unknown>) => ({ ...p, detail: String(p.detail).replace(/conn-of-a|no-such-connection/, 'X'), instance: undefined });
    const foreign = await accounts(KEY_B);
    const missing = await accounts(KEY_B, 'no-such-connection');
    expect(foreign.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(strip(await problemOf(foreign))).toEqual(strip(await problemOf(missing)));

    const peek = await h.call('/connections/conn-of-a', { headers: as(KEY_B) });
    const peekMissing = await h.call('/connections/no-such-connection', { headers: as(KEY_B) });
    expect(peek.status).toBe(404);
    expect(strip(await problemOf(peek))).toEqual(strip(await problemOf(peekMissing)));

    expect((await h.call('/connections/conn-of-a', { method: 'DELETE', headers: as(KEY_B) })).status).toBe(404);
    const reuse = await h.call('/connections', { method: 'POST', headers: as(KEY_B), body: { bank: 'seb', connectionId: 'conn-of-a' } });
    expect(reuse.status).toBe(409); // the id is taken; B learns nothing else about it
    expect((await accounts(tokenA)).status).toBe(200); // A's connection is untouched
  });

  it('permissions: a caller allowed only sg/* cannot call SEB or start a consent there', async () => {
    const call = await accounts(KEY_SG_ONLY, 'anything');
    expect(call.status).toBe(403);
    expect((await problemOf(call)).code).toBe('forbidden');
    const consent = await h.call('/connections', { method: 'POST', headers: as(KEY_SG_ONLY), body: { bank: 'seb' } });
    expect(consent.status).toBe(403);
    expect((await h.call('/connections', { method: 'POST', headers: as(KEY_SG_ONLY), body: { bank: 'sg' } })).status).toBe(201);
  });

  it("caller-supplied Authorization, Signature and TPP-* headers never reach the bank", async () => {
    await h.call('/connections', { method: 'POST', headers: as(KEY_SG_ONLY), body: { bank: 'sg' } });
    const response = await h.call('/sg/pisp/payment-requests', {
      method: 'POST',
      headers: { ...as(KEY_SG_ONLY), signature: 'keyId="forged",algorithm="rsa-sha256",headers="x",signature="AAAA"', digest: 'SHA-256=forged', 'tpp-signature-certificate': 'forged', 'tpp-redirect-uri': 'https://evil.example/steal', date: 'Thu, 01 Jan 1970 00:00:00 GMT' },
      body: SG_PAYMENT,
    });
    expect(response.status).toBe(201);
    const seen = (await h.bankRequests('sg')).at(-1)!;
    expect(seen.headers.authorization).toMatch(/^Bearer /);
    expect(seen.headers.authorization).not.toContain(KEY_SG_ONLY);
    expect(seen.headers.signature).not.toContain('forged');
    expect(seen.headers.digest).not.toBe('SHA-256=forged');
    expect(seen.headers['tpp-signature-certificate'] ?? '').not.toBe('forged');
    expect(seen.headers['tpp-redirect-uri']).toBeUndefined();
    expect(JSON.stringify(seen.headers)).not.toContain('evil.example');
  });
});
